// Profiles (§3 Accounts): my own profile, what I may change, and who may see whom.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { PUBLIC_FIELDS, befriend, insertMedia, shareChallenge } from './helpers.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const me = (user: TestUser) => t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: user.auth });
const patch = (user: TestUser, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: user.auth, payload });
const view = (viewer: TestUser, id: string) => t.app.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers: viewer.auth });

describe('GET /users/me', () => {
  it('returns my email, role, time zone and counters', async () => {
    const user = await t.users.create({ displayName: 'Me Myself', timezone: 'Europe/Paris' });
    const res = await me(user);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: user.id,
      email: user.email,
      role: 'user',
      display_name: 'Me Myself',
      full_name: null,
      bio: null,
      timezone: 'Europe/Paris',
      avatar_media_id: null,
      current_streak: 0,
      longest_streak: 0,
      points: 0,
      total_check_ins: 0,
      total_challenges_completed: 0,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    });
  });
});

describe('PATCH /users/me', () => {
  it('changes only the fields sent, trims text, and "" or null clears optional text', async () => {
    const user = await t.users.create();
    const res = await patch(user, { display_name: '  New Name ', full_name: 'Full Name', bio: 'Hello there', timezone: 'America/New_York' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ display_name: 'New Name', full_name: 'Full Name', bio: 'Hello there', timezone: 'America/New_York' });
    const cleared = await patch(user, { full_name: null, bio: '   ' });
    expect(cleared.json()).toMatchObject({ display_name: 'New Name', full_name: null, bio: null, timezone: 'America/New_York' });
    const nothing = await patch(user, {});
    expect(nothing.statusCode).toBe(200);
    expect(nothing.json()).toEqual(cleared.json());
  });

  it.each([
    ['role', { role: 'admin' }],
    ['points', { points: 1_000_000 }],
    ['email', { email: 'new@example.test' }],
    ['id', { id: randomUUID() }],
    ['current_streak', { current_streak: 99 }],
    ['an unknown field', { favourite_colour: 'blue' }],
    ['a known field next to role', { display_name: 'Sneaky', role: 'admin' }],
  ])('refuses %s with 400 and changes nothing', async (_name, payload) => {
    const user = await t.users.create({ displayName: 'Unchanged' });
    const before = (await me(user)).json();
    const res = await patch(user, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('MALFORMED_REQUEST');
    expect((await me(user)).json()).toEqual(before);
    const row = await t.db.withSystem((tx) =>
      tx.one<{ role: string; email: string; points: number }>(sql`select u.role, u.email, p.points from users u join user_profiles p on p.user_id = u.id where u.id = ${user.id}`),
    );
    expect(row).toEqual({ role: 'user', email: user.email, points: 0 });
  });

  it.each([
    ['an unknown zone', 'Mars/Olympus_Mons', 422],
    ['an offset, not a zone', '+05:00', 422],
    ['an empty string', '', 422],
    ['a lowercase abbreviation', 'est5edt-nope', 422],
  ])('refuses %s as timezone', async (_name, timezone, status) => {
    const user = await t.users.create();
    const res = await patch(user, { timezone });
    expect(res.statusCode).toBe(status);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect((await me(user)).json().timezone).toBe('UTC');
  });

  it.each(['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Calcutta', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])(
    'accepts the IANA zone %s, canonical or alias',
    async (timezone) => {
      const user = await t.users.create();
      const res = await patch(user, { timezone });
      expect(res.statusCode).toBe(200);
      expect(res.json().timezone).toBe(timezone);
    },
  );

  it('refuses a display name that is blank, too long or has control characters (422)', async () => {
    const user = await t.users.create();
    for (const display_name of ['   ', 'x'.repeat(51), 'line\nbreak']) {
      expect((await patch(user, { display_name })).statusCode).toBe(422);
    }
    expect((await patch(user, { bio: 'b'.repeat(501) })).statusCode).toBe(422);
  });

  it('accepts only an avatar the caller uploaded as kind "avatar"', async () => {
    const user = await t.users.create();
    const other = await t.users.create();
    const mine = await insertMedia(t, user.id, 'avatar');
    const myPhoto = await insertMedia(t, user.id, 'photo');
    const theirs = await insertMedia(t, other.id, 'avatar');
    for (const avatar_media_id of [theirs, myPhoto, randomUUID()]) {
      const res = await patch(user, { avatar_media_id });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors[0].path).toBe('body.avatar_media_id');
    }
    expect((await patch(user, { avatar_media_id: 'not-a-uuid' })).statusCode).toBe(422);
    const ok = await patch(user, { avatar_media_id: mine });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().avatar_media_id).toBe(mine);
    expect((await patch(user, { avatar_media_id: null })).json().avatar_media_id).toBeNull();
  });
});

describe('GET /users/{id}', () => {
  it('shows a friend or fellow challenge member the public fields only', async () => {
    const alice = await t.users.create({ displayName: 'Alice' });
    const friend = await t.users.create();
    const teammate = await t.users.create();
    await patch(alice, { bio: 'Runner', full_name: 'Alice Example', timezone: 'Asia/Tokyo' });
    await befriend(t, alice.id, friend.id);
    await shareChallenge(t, [alice.id, teammate.id]);
    for (const viewer of [friend, teammate]) {
      const res = await view(viewer, alice.id);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(PUBLIC_FIELDS);
      expect(body).toMatchObject({ id: alice.id, display_name: 'Alice', full_name: 'Alice Example', bio: 'Runner' });
      expect(res.body).not.toContain(alice.email);
      expect(res.body).not.toContain('Asia/Tokyo');
    }
  });

  it('is 404 for strangers, pending requests, former teammates, blocked users and unknown ids', async () => {
    const alice = await t.users.create();
    const stranger = await t.users.create();
    const pending = await t.users.create();
    const former = await t.users.create();
    const blocker = await t.users.create();
    await befriend(t, pending.id, alice.id, 'pending');
    await shareChallenge(t, [alice.id, former.id], 'left');
    // Friends and teammates, then blocked: the block wins.
    await shareChallenge(t, [alice.id, blocker.id]);
    await befriend(t, blocker.id, alice.id, 'blocked');
    for (const viewer of [stranger, pending, former, blocker]) {
      const res = await view(viewer, alice.id);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
    // Either side of the block.
    expect((await view(alice, blocker.id)).statusCode).toBe(404);
    const unknown = await view(alice, randomUUID());
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toBe((await view(stranger, alice.id)).json().detail);
  });

  it('shows me my own public profile', async () => {
    const user = await t.users.create();
    const res = await view(user, user.id);
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(PUBLIC_FIELDS);
  });

  it('refuses a malformed id without touching the database', async () => {
    const user = await t.users.create();
    expect((await view(user, "1' or '1'='1")).statusCode).toBe(422);
  });
});
