// The flows `darezone smoke` walks, in the order the mobile app meets them: each method is one
// screen's worth of calls, each call one printed step. The account is a throwaway `smoke+…` address;
// the walk ends by leaving its challenge and ending every session (there is no account deletion).
import { createHash, randomBytes } from 'node:crypto';
import { SmokeFailure, int, isObject, list, object, same, str, type SmokeHttp, type SmokeResponse } from './smoke-http.js';

/** Runs one named step: prints its line, and on failure names it in the error. */
export type RunStep = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

const DAY_MS = 86_400_000;

/**
 * "Today" as the server counts it (UTC, the new account's zone), from the Date header: a laptop
 * clock a few minutes off around midnight would otherwise ask for a start date in the past.
 */
function serverToday(res: SmokeResponse): string {
  const date = new Date(res.headers.get('date') ?? Number.NaN);
  return (Number.isNaN(date.getTime()) ? new Date() : date).toISOString().slice(0, 10);
}

const nextDay = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

/** A small opaque PNG: the server re-encodes photos, so any decodable image exercises the path. */
async function tinyPng(): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 255, g: 94, b: 58 } } }).png().toBuffer();
}

function tokens(body: unknown, what: string) {
  const s = object(body, what);
  same(s.token_type, 'bearer', 'token_type');
  return { access: str(s, 'access_token'), refresh: str(s, 'refresh_token'), user: isObject(s.user) ? s.user : undefined };
}

type Auth = { token: string };
interface Session {
  userId: string;
  refresh: string;
  auth: Auth;
}

/** One run: one throwaway account, and what to undo should the run stop half-way. */
export class SmokeWalk {
  private readonly email: string;
  private readonly password = randomBytes(24).toString('base64url');
  // Cleared by the last steps, which undo them on success.
  private token: string | undefined;
  private openChallenge: string | undefined;

  constructor(
    private readonly http: SmokeHttp,
    private readonly step: RunStep,
    emailDomain: string,
  ) {
    this.email = `smoke+${randomBytes(6).toString('hex')}@${emailDomain}`;
  }

  async all(): Promise<void> {
    await this.probes();
    const session = await this.account();
    const { challengeId, habitId } = await this.challenge(session.auth);
    await this.checkIn(session.auth, challengeId, habitId);
    await this.media(session.auth);
    await this.notifications(session.auth);
    await this.leave(session.auth, challengeId);
    await this.endSessions(session);
  }

  private async probes() {
    const { http, step } = this;
    await step('GET /health/ready', async () => {
      const res = await http.call('GET', '/health/ready', { expect: 200 });
      same(object(res.body, 'readiness').status, 'ok', 'status');
    });
    await step('GET /openapi.json', async () => {
      const doc = object((await http.call('GET', '/openapi.json', { expect: 200 })).body, 'openapi.json');
      str(doc, 'openapi');
      if (!isObject(doc.paths) || !('/api/v1/checkins' in doc.paths)) throw new SmokeFailure('not the DareZone API: no /api/v1/checkins in paths');
    });
  }

  private async account(): Promise<Session> {
    const { http, step, email, password } = this;
    const userId = await step('POST /api/v1/auth/signup', async () => {
      const body = { email, password, display_name: 'Smoke test' };
      const s = tokens((await http.call('POST', '/api/v1/auth/signup', { expect: 201, json: body })).body, 'signup');
      const user = object(s.user, 'signup user');
      same(user.email, email, 'user.email');
      this.token = s.access;
      return str(user, 'id');
    });
    const login = await step('POST /api/v1/auth/login', async () => {
      const s = tokens((await http.call('POST', '/api/v1/auth/login', { expect: 200, json: { email, password } })).body, 'login');
      same(object(s.user, 'login user').id, userId, 'user.id');
      return s;
    });
    this.token = login.access; // the app's own session from here on; signup's is ended by logout
    const auth = { token: login.access };
    await step('GET /api/v1/auth/me', async () => {
      same(object((await http.call('GET', '/api/v1/auth/me', { expect: 200, ...auth })).body, 'me').id, userId, 'id');
    });
    await step('GET /api/v1/users/me', async () => {
      same(object((await http.call('GET', '/api/v1/users/me', { expect: 200, ...auth })).body, 'profile').email, email, 'email');
    });
    await step('PATCH /api/v1/users/me', async () => {
      const bio = 'Throwaway account of the post-deploy check (darezone smoke).';
      const me = object((await http.call('PATCH', '/api/v1/users/me', { expect: 200, ...auth, json: { bio, timezone: 'UTC' } })).body, 'profile');
      same(me.bio, bio, 'bio');
      same(me.timezone, 'UTC', 'timezone');
    });
    return { userId, refresh: login.refresh, auth };
  }

  private async challenge(auth: Auth) {
    const { http, step } = this;
    const { habitId, today } = await step('GET /api/v1/habits', async () => {
      const res = await http.call('GET', '/api/v1/habits?limit=100', { expect: 200, ...auth });
      const habit = list(object(res.body, 'habits'), 'items').find((h) => isObject(h) && h.is_system === true);
      if (!isObject(habit)) throw new SmokeFailure('no system habit listed (are the seed migrations applied?)');
      return { habitId: str(habit, 'id'), today: serverToday(res) };
    });
    const challengeId = await step('POST /api/v1/challenges', async () => {
      // The shortest allowed challenge, individual and private: nobody else ever sees it.
      const body = {
        name: 'Smoke test',
        description: 'Created by darezone smoke, the post-deploy check.',
        type: 'individual',
        start_date: today,
        end_date: nextDay(today),
        habit_ids: [habitId],
        checkin_type: 'caption',
        require_evidence: true,
      };
      const c = object((await http.call('POST', '/api/v1/challenges', { expect: 201, ...auth, json: body })).body, 'challenge');
      this.openChallenge = str(c, 'id');
      str(c, 'invite_code');
      same(c.my_role, 'creator', 'my_role');
      return this.openChallenge;
    });
    await step('GET /api/v1/challenges/{id}', async () => {
      const c = object((await http.call('GET', `/api/v1/challenges/${challengeId}`, { expect: 200, ...auth })).body, 'challenge');
      same(c.id, challengeId, 'id');
      same(c.status, 'active', 'status');
      same(list(c, 'habits').length, 1, 'number of habits');
    });
    return { challengeId, habitId };
  }

  private async checkIn(auth: Auth, challengeId: string, habitId: string) {
    const { http, step } = this;
    const checkin = { challenge_id: challengeId, habit_id: habitId, caption: 'Smoke test check-in' };
    const checkinId = await step('POST /api/v1/checkins', async () => {
      const r = object((await http.call('POST', '/api/v1/checkins', { expect: 201, ...auth, json: checkin })).body, 'check-in result');
      same(r.new_streak, 1, 'new_streak');
      same(r.points_earned, 10, 'points_earned');
      same(r.streak_broken, false, 'streak_broken');
      return str(object(r.checkin, 'checkin'), 'id');
    });
    await step('GET /api/v1/checkins/today', async () => {
      const t = object((await http.call('GET', '/api/v1/checkins/today', { expect: 200, ...auth })).body, 'today');
      const mine = list(t, 'checkins').find((c) => isObject(c) && c.id === checkinId);
      if (!isObject(mine)) throw new SmokeFailure(`check-in ${checkinId} is not among today's`);
      same(mine.streak_after, 1, 'streak_after');
      same(mine.points_earned, 10, 'points_earned');
    });
    await step('POST /api/v1/checkins again (409)', async () => {
      const res = await http.call('POST', '/api/v1/checkins', { expect: 409, ...auth, json: checkin });
      same(object(res.body, 'problem').code, 'DUPLICATE_CHECK_IN', 'code');
    });
    await step('GET /api/v1/users/me (counters)', async () => {
      const me = object((await http.call('GET', '/api/v1/users/me', { expect: 200, ...auth })).body, 'profile');
      same(me.points, 10, 'points');
      same(me.total_check_ins, 1, 'total_check_ins');
    });
  }

  private async media(auth: Auth) {
    const { http, step } = this;
    const uploaded = await step('POST /api/v1/media', async () => {
      const form = new FormData();
      form.append('kind', 'photo'); // first, so the photo limit applies while the file streams
      form.append('file', new Blob([await tinyPng()], { type: 'image/png' }), 'smoke.png');
      const m = object((await http.call('POST', '/api/v1/media', { expect: 201, ...auth, form })).body, 'media');
      same(m.kind, 'photo', 'kind');
      return str(m, 'id');
    });
    const media = await step('GET /api/v1/media/{id}', async () => {
      const m = object((await http.call('GET', `/api/v1/media/${uploaded}`, { expect: 200, ...auth })).body, 'media');
      same(m.id, uploaded, 'id');
      return { url: str(m, 'url'), contentType: str(m, 'content_type'), sha256: str(m, 'sha256') };
    });
    await step('GET media bytes (signed URL)', async () => {
      // Root-relative on local storage, absolute (S3) otherwise; never sent a token either way.
      const res = await http.call('GET', new URL(media.url, http.baseUrl), { expect: 200 });
      same(res.headers.get('content-type'), media.contentType, 'content-type');
      same(createHash('sha256').update(res.bytes).digest('hex'), media.sha256, 'sha256 of the bytes');
    });
    await step('DELETE /api/v1/media/{id}', async () => {
      await http.call('DELETE', `/api/v1/media/${uploaded}`, { expect: 204, ...auth });
    });
  }

  private async notifications(auth: Auth) {
    const { http, step } = this;
    await step('GET /api/v1/notifications', async () => {
      const page = object((await http.call('GET', '/api/v1/notifications', { expect: 200, ...auth })).body, 'notifications');
      list(page, 'items');
      if (!('next_cursor' in page)) throw new SmokeFailure('response field next_cursor missing');
    });
    await step('GET /api/v1/notifications/unread-count', async () => {
      int(object((await http.call('GET', '/api/v1/notifications/unread-count', { expect: 200, ...auth })).body, 'unread count'), 'count');
    });
  }

  /** Left, the challenge gets no reminders and closes as failed without notifying anyone. */
  private async leave(auth: Auth, challengeId: string) {
    await this.step('POST /api/v1/challenges/{id}/leave', async () => {
      await this.http.call('POST', `/api/v1/challenges/${challengeId}/leave`, { expect: 204, ...auth });
      this.openChallenge = undefined;
    });
  }

  private async endSessions(session: Session) {
    const { http, step } = this;
    const refresh_token = session.refresh;
    await step('POST /api/v1/auth/refresh', async () => {
      const s = tokens((await http.call('POST', '/api/v1/auth/refresh', { expect: 200, json: { refresh_token } })).body, 'refresh');
      if (s.refresh === refresh_token) throw new SmokeFailure('refresh returned the same refresh token (no rotation)');
    });
    await step('POST /api/v1/auth/refresh reused (401)', async () => {
      // A rotated token presented again means a stolen copy: the server must refuse it.
      const res = await http.call('POST', '/api/v1/auth/refresh', { expect: 401, json: { refresh_token } });
      same(object(res.body, 'problem').code, 'INVALID_REFRESH_TOKEN', 'code');
    });
    await step('POST /api/v1/auth/logout (all sessions)', async () => {
      await http.call('POST', '/api/v1/auth/logout', { expect: 204, ...session.auth, json: { all_sessions: true } });
      this.token = undefined;
    });
  }

  /** Best effort and silent: the failure already printed is what the operator needs. */
  async cleanUp(): Promise<void> {
    const token = this.token;
    if (!token) return;
    const quiet = (path: string, json?: unknown) => this.http.call('POST', path, { expect: 204, token, json }).catch(() => undefined);
    if (this.openChallenge) await quiet(`/api/v1/challenges/${this.openChallenge}/leave`);
    await quiet('/api/v1/auth/logout', { all_sessions: true });
  }
}

