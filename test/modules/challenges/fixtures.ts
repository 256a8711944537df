// Shared by the challenge, check-in and notification tests: build challenges through the API as a
// client would, and insert media rows directly (the upload endpoint belongs to a later issue).
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { TestContext, TestUser } from '../../helpers/app.js';

export const HABITS = {
  exercise: '00000000-0000-4000-8000-000000000001',
  water: '00000000-0000-4000-8000-000000000002',
  reading: '00000000-0000-4000-8000-000000000003',
  meditation: '00000000-0000-4000-8000-000000000004',
} as const;

/** The test clock's default day (2026-06-15T12:00Z). */
export const TODAY = '2026-06-15';

export function challengeBody(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Morning routine',
    type: 'group',
    start_date: TODAY,
    end_date: '2026-07-15',
    habit_ids: [HABITS.exercise, HABITS.water],
    checkin_type: 'any',
    ...overrides,
  };
}

export async function createChallenge(t: TestContext, user: TestUser, overrides: Record<string, unknown> = {}) {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/challenges', headers: user.auth, payload: challengeBody(overrides) });
  if (res.statusCode !== 201) throw new Error(`create challenge: ${res.statusCode} ${res.body}`);
  return res.json();
}

export function join(t: TestContext, user: TestUser, inviteCode: string) {
  return t.app.inject({ method: 'POST', url: '/api/v1/challenges/join', headers: user.auth, payload: { invite_code: inviteCode } });
}

export function checkIn(t: TestContext, user: TestUser, payload: Record<string, unknown>) {
  return t.app.inject({ method: 'POST', url: '/api/v1/checkins', headers: user.auth, payload });
}

export async function insertMedia(t: TestContext, ownerId: string, kind: 'photo' | 'video' | 'avatar'): Promise<string> {
  const id = randomUUID();
  const contentType = kind === 'video' ? 'video/mp4' : 'image/jpeg';
  await t.db.withSystem((tx) =>
    tx.execute(sql`insert into media (id, owner_id, kind, content_type, size_bytes, storage_key, sha256)
      values (${id}, ${ownerId}, ${kind}, ${contentType}, 1234, ${`test/${id}`}, ${randomBytes(32).toString('hex')})`),
  );
  return id;
}

/** Every page of a list endpoint, following next_cursor. */
export async function walk(t: TestContext, user: TestUser, url: string, limit: number, between?: () => Promise<void>) {
  const items: { id?: string; user_id?: string }[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res: { statusCode: number; body: string; json(): { items: typeof items; next_cursor: string | null } } = await t.app.inject({
      method: 'GET',
      url: `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      headers: user.auth,
    });
    if (res.statusCode !== 200) throw new Error(`walk ${url}: ${res.statusCode} ${res.body}`);
    const body: { items: typeof items; next_cursor: string | null } = res.json();
    items.push(...body.items);
    cursor = body.next_cursor;
    pages++;
    if (between) await between();
  } while (cursor && pages < 1000);
  return { items, pages };
}

/** The same user with a token issued at the test clock's current time (tokens live 15 minutes). */
export async function refreshed(t: TestContext, user: TestUser): Promise<TestUser> {
  const token = await t.users.token(user.id, user.role);
  return { ...user, token, auth: { authorization: `Bearer ${token}` } };
}
