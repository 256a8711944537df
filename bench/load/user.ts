// One virtual user: a phone with its own account, token and client address, doing what the mobile
// app does when it is opened and used — a "screen" fires the calls the app makes for it together,
// then the user thinks 1–3 s before the next screen. A user never exceeds 90 requests in any 60 s
// (the server's per-IP global limit is 100 per 60 s window), so every 429 is a finding.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from './client.js';
import { FIRST_NAMES, type SeedChallenge, type SeedUser } from './seed.js';

const BUDGET = 90;
const BUDGET_WINDOW_MS = 60_000;
/** Refresh when the access token has less than this left (the app does it before a call fails). */
const REFRESH_MARGIN_MS = 60_000;
/** Share of app openings that are cold starts, where the app refreshes its session first. */
const COLD_START = 0.05;

interface Screen {
  weight: number;
  run(u: VirtualUser): Promise<unknown>;
}

const pickOne = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

const SCREENS: Screen[] = [
  {
    weight: 3, // the app opens: home screen
    run: async (u) => {
      if (Math.random() < COLD_START) await u.refresh();
      return Promise.all([
        u.get('GET /api/v1/checkins/today', '/api/v1/checkins/today'),
        u.get('GET /api/v1/challenges', '/api/v1/challenges'),
        u.get('GET /api/v1/notifications/unread-count', '/api/v1/notifications/unread-count'),
      ]);
    },
  },
  {
    weight: 3, // a challenge's screen: details, everyone's progress, the feed
    run: (u) => {
      const c = pickOne(u.challenges);
      return Promise.all([
        u.get('GET /api/v1/challenges/:id', `/api/v1/challenges/${c.id}`),
        u.get('GET /api/v1/challenges/:id/progress', `/api/v1/challenges/${c.id}/progress`),
        u.get('GET /api/v1/challenges/:id/checkins', `/api/v1/challenges/${c.id}/checkins?limit=20`),
      ]);
    },
  },
  { weight: 2, run: (u) => u.get('GET /api/v1/notifications', '/api/v1/notifications?limit=20') },
  { weight: 1, run: (u) => u.get('GET /api/v1/users/me', '/api/v1/users/me') },
  { weight: 1, run: (u) => u.get('GET /api/v1/checkins', '/api/v1/checkins?limit=20') },
  { weight: 2, run: (u) => u.checkIn() },
  { weight: 0.7, run: (u) => u.get('GET /api/v1/users/search', `/api/v1/users/search?q=${pickOne(FIRST_NAMES).slice(0, 3).toLowerCase()}`) },
  {
    weight: 0.3,
    run: (u) => u.call('PATCH /api/v1/users/me', '/api/v1/users/me', { json: { bio: `Day ${Math.floor(Math.random() * 1000)} of getting better` }, expect: [200] }),
  },
];
const TOTAL_WEIGHT = SCREENS.reduce((s, x) => s + x.weight, 0);

function pickScreen(): Screen {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const s of SCREENS) if ((r -= s.weight) < 0) return s;
  return SCREENS[0]!;
}

export class VirtualUser {
  readonly ip: string;
  challenges: SeedChallenge[];
  private token = '';
  private refreshToken = '';
  private expiresAt = 0;
  private readonly sent: number[] = [];
  private readonly done = new Set<string>();
  /** Screens completed (for the report's sanity line). */
  screens = 0;

  constructor(
    private readonly client: Client,
    readonly seeded: SeedUser,
    private readonly password: string,
    private readonly think: { min: number; max: number },
  ) {
    const n = seeded.index + 1;
    this.ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    this.challenges = [...seeded.challenges];
  }

  /** Log in and join the group's new challenge with its invite code, as a new member would. */
  async start(): Promise<void> {
    const login = await this.call('POST /api/v1/auth/login', '/api/v1/auth/login', {
      json: { email: this.seeded.email, password: this.password },
      expect: [200],
      anonymous: true,
    });
    if (login.status !== 200) throw new Error(`login of ${this.seeded.email} from ${this.ip}: HTTP ${login.status} ${JSON.stringify(login.body)}`);
    this.takeTokens(login.body);
    const join = this.seeded.toJoin;
    if (join) {
      const res = await this.call('POST /api/v1/challenges/join', '/api/v1/challenges/join', { json: { invite_code: join.inviteCode }, expect: [200, 201] });
      if (res.status !== 200 && res.status !== 201) throw new Error(`join ${join.inviteCode}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      this.challenges.push(join);
    }
  }

  /** Screens with think time until `stop` says so; the screen under way is finished. */
  async run(stop: () => boolean): Promise<void> {
    while (!stop()) {
      if (this.expiresAt - Date.now() < REFRESH_MARGIN_MS) await this.refresh();
      await pickScreen().run(this);
      this.screens++;
      if (stop()) break;
      await sleep(this.think.min + Math.random() * (this.think.max - this.think.min));
    }
  }

  async refresh(): Promise<void> {
    const res = await this.call('POST /api/v1/auth/refresh', '/api/v1/auth/refresh', { json: { refresh_token: this.refreshToken }, expect: [200], anonymous: true });
    if (res.status === 200) this.takeTokens(res.body);
  }

  /**
   * Checks in a habit not yet done today; now and then taps again on one already done (the app's
   * double-submit), which must answer 409 DUPLICATE_CHECK_IN: an expected answer, not an error.
   */
  async checkIn(): Promise<unknown> {
    const all = this.challenges.flatMap((c) => c.habits.map((h) => ({ challenge_id: c.id, habit_id: h })));
    const isDone = (t: (typeof all)[number]) => this.done.has(`${t.challenge_id}:${t.habit_id}`);
    const open = all.filter((t) => !isDone(t));
    const doneList = all.filter(isDone);
    const again = open.length === 0 || (doneList.length > 0 && Math.random() < 0.1);
    const target = again ? pickOne(doneList) : pickOne(open);
    const key = `${target.challenge_id}:${target.habit_id}`;
    const duplicate = this.done.has(key);
    const res = await this.call('POST /api/v1/checkins', '/api/v1/checkins', {
      json: { ...target, caption: 'Done for today' },
      expect: duplicate ? [] : [201],
      tolerated: duplicate ? [409] : [],
    });
    if (res.status === 201) this.done.add(key);
    return this.get('GET /api/v1/checkins/today', '/api/v1/checkins/today');
  }

  get(route: string, path: string) {
    return this.call(route, path, { expect: [200] });
  }

  async call(route: string, path: string, opts: { json?: unknown; expect: number[]; tolerated?: number[]; anonymous?: boolean }) {
    await this.budget();
    return this.client.call(route, path, { ip: this.ip, token: opts.anonymous ? undefined : this.token, json: opts.json, expect: opts.expect, tolerated: opts.tolerated });
  }

  /** Waits while this user has sent BUDGET requests in the last BUDGET_WINDOW_MS. */
  private async budget(): Promise<void> {
    for (;;) {
      const now = Date.now();
      while (this.sent.length > 0 && this.sent[0]! <= now - BUDGET_WINDOW_MS) this.sent.shift();
      if (this.sent.length < BUDGET) break;
      await sleep(this.sent[0]! + BUDGET_WINDOW_MS - now + 1);
    }
    this.sent.push(Date.now());
  }

  private takeTokens(body: unknown): void {
    const b = body as { access_token: string; refresh_token: string; expires_in: number };
    this.token = b.access_token;
    this.refreshToken = b.refresh_token;
    this.expiresAt = Date.now() + b.expires_in * 1000;
  }
}
