// The seeded world of the authorization matrix and the injection corpus, built through the API as
// clients would (plus a notification inserted directly: nothing in the API creates an arbitrary one).
//   owner     creator of a private group challenge, with a check-in (photo evidence) in it, a
//             notification and an uploaded photo (when the media module is present)
//   other     an active member of the owner's challenge: sees it, is not its owner
//   extra     another active member (the one removed in "remove a member" cells)
//   nonMember a signed-in user who shares nothing with the owner
//   admin     a platform admin who is not a member of anything
import { sql } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import { capturingTokens, type SecurityApp, type SecUser } from './helpers.js';

export const ACTORS = ['anonymous', 'owner', 'other', 'nonMember', 'admin'] as const;
export type Actor = (typeof ACTORS)[number];

export const HABIT_EXERCISE = '00000000-0000-4000-8000-000000000001';
export const HABIT_WATER = '00000000-0000-4000-8000-000000000002';
/** The test clock's day (TestClock starts at 2026-06-15T12:00Z). */
export const TODAY = '2026-06-15';

/** An 8×8 JPEG (sharp decodes and re-encodes it), so an upload needs no image library in the test. */
export const TINY_JPEG = Buffer.from(
  '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAIAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAT/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAABf/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AIADg9//2Q==',
  'base64',
);

export interface Challenge {
  id: string;
  invite_code: string;
}

export interface World {
  t: SecurityApp;
  owner: SecUser;
  other: SecUser;
  extra: SecUser;
  nonMember: SecUser;
  admin: SecUser;
  challenge: Challenge;
  ownerCheckinId: string;
  notificationId: string;
  /** The owner's uploaded photo (null without the media module). */
  mediaId: string | null;
  /** A signed URL of that photo's bytes, as GET /api/v1/media/{id} hands it out. */
  mediaUrl: string | null;
  /** Strings only the owner (email) or the owner's challenge members (the rest) may ever receive. */
  privateMarkers: { ownerOnly: string[]; membersOnly: string[] };
  hasMedia: boolean;
}

export function authOf(w: World, actor: Actor): Record<string, string> {
  return actor === 'anonymous' ? {} : w[actor].auth;
}

export async function send(t: SecurityApp, req: InjectOptions) {
  const res = await t.app.inject(req);
  await capturingTokens(t, res);
  return res;
}

async function ok<T>(t: SecurityApp, req: InjectOptions, status: number): Promise<T> {
  const res = await send(t, req);
  if (res.statusCode !== status) throw new Error(`${String(req.method)} ${typeof req.url === 'string' ? req.url : ''}: ${res.statusCode} ${res.body}`);
  return (res.body ? res.json() : null) as T;
}

export function multipart(fields: Record<string, string>, file: Buffer, filename = 'photo.jpg') {
  const boundary = '----darezone-security-suite';
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: image/jpeg\r\n\r\n`;
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([Buffer.from(parts.join('') + head), file, Buffer.from(`\r\n--${boundary}--\r\n`)]),
  };
}

/** A new private group challenge of the owner's, joined by `members`. */
export async function freshChallenge(w: Pick<World, 't' | 'owner'>, members: SecUser[] = [], overrides: Record<string, unknown> = {}): Promise<Challenge> {
  const c = await ok<Challenge>(
    w.t,
    {
      method: 'POST',
      url: '/api/v1/challenges',
      headers: w.owner.auth,
      payload: { name: 'Private morning routine', type: 'group', start_date: TODAY, end_date: '2026-07-15', habit_ids: [HABIT_EXERCISE, HABIT_WATER], checkin_type: 'any', ...overrides },
    },
    201,
  );
  for (const m of members) await ok(w.t, { method: 'POST', url: '/api/v1/challenges/join', headers: m.auth, payload: { invite_code: c.invite_code } }, 200);
  return c;
}

export async function insertNotification(w: World, userId: string, title = 'for the owner'): Promise<string> {
  return w.t.db.withSystem(async (tx) => {
    const row = await tx.one<{ id: string }>(sql`insert into notifications (user_id, type, title) values (${userId}, 'test', ${title}) returning id`);
    return row!.id;
  });
}

export async function uploadPhoto(t: SecurityApp, user: SecUser): Promise<string> {
  const body = multipart({ kind: 'photo' }, TINY_JPEG);
  const media = await ok<{ id: string }>(t, { method: 'POST', url: '/api/v1/media', headers: { ...user.auth, ...body.headers }, payload: body.payload }, 201);
  return media.id;
}

export async function buildWorld(t: SecurityApp): Promise<World> {
  const owner = await t.createUser({ displayName: 'Olivia Owner' });
  const other = await t.createUser({ displayName: 'Oscar Other' });
  const extra = await t.createUser({ displayName: 'Evan Extra' });
  const nonMember = await t.createUser({ displayName: 'Nina Outsider' });
  const admin = await t.createUser({ displayName: 'Ada Admin', role: 'admin' });
  const hasMedia = t.routes.some((r) => r.method === 'POST' && r.url === '/api/v1/media');
  const partial = { t, owner };
  const challenge = await freshChallenge(partial, [other, extra], { name: 'Olivia secret challenge 91b2' });
  const caption = 'owner-private-caption-7f3a';
  const mediaId = hasMedia ? await uploadPhoto(t, owner) : null;
  const checkin = await ok<{ checkin: { id: string } }>(
    t,
    {
      method: 'POST',
      url: '/api/v1/checkins',
      headers: owner.auth,
      payload: { challenge_id: challenge.id, habit_id: HABIT_EXERCISE, caption, ...(mediaId ? { photo_media_id: mediaId } : {}) },
    },
    201,
  );
  const w: World = {
    t,
    owner,
    other,
    extra,
    nonMember,
    admin,
    challenge,
    ownerCheckinId: checkin.checkin.id,
    notificationId: '',
    mediaId,
    mediaUrl: null,
    hasMedia,
    privateMarkers: { ownerOnly: [owner.email], membersOnly: [challenge.invite_code, caption, 'Olivia secret challenge 91b2'] },
  };
  w.notificationId = await insertNotification(w, owner.id);
  if (mediaId) {
    const media = await ok<{ url: string }>(t, { method: 'GET', url: `/api/v1/media/${mediaId}`, headers: owner.auth }, 200);
    w.mediaUrl = media.url;
  }
  return w;
}
