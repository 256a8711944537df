import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { createChallenge, join, refreshed } from './fixtures.js';

let t: TestContext;
let creator: TestUser;
let member: TestUser;
let other: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  creator = await t.users.create({ displayName: 'Cara' });
  member = await t.users.create({ displayName: 'Max' });
  other = await t.users.create({ displayName: 'Olga' });
});
afterAll(() => t.close());

const leave = (user: TestUser, id: string) => t.app.inject({ method: 'POST', url: `/api/v1/challenges/${id}/leave`, headers: user.auth });
const kick = (user: TestUser, id: string, userId: string) =>
  t.app.inject({ method: 'DELETE', url: `/api/v1/challenges/${id}/members/${userId}`, headers: user.auth });
const patch = (user: TestUser, id: string, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'PATCH', url: `/api/v1/challenges/${id}`, headers: user.auth, payload });
const notifications = async (user: TestUser) =>
  (await t.app.inject({ method: 'GET', url: '/api/v1/notifications', headers: user.auth })).json().items;

describe('POST /challenges/join', () => {
  it('joins by code (any case, surrounding spaces) and tells the creator', async () => {
    const c = await createChallenge(t, creator, { name: 'Join me' });
    const res = await join(t, member, `  ${c.invite_code.toLowerCase()} `);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: c.id, member_count: 2, my_role: 'member', my_status: 'active', invite_code: c.invite_code });
    expect(await notifications(creator)).toContainEqual(
      expect.objectContaining({ type: 'member_joined', title: 'Max joined "Join me"', data: { challenge_id: c.id, user_id: member.id } }),
    );
    expect(await notifications(member)).toEqual([]);
  });

  it('unknown code → 404', async () => {
    const res = await join(t, member, 'ZZZZZZZZ');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it('already a member → 409 ALREADY_MEMBER (the creator too)', async () => {
    const c = await createChallenge(t, creator);
    expect((await join(t, member, c.invite_code)).statusCode).toBe(200);
    for (const user of [member, creator]) {
      const res = await join(t, user, c.invite_code);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('ALREADY_MEMBER');
    }
  });

  it('full → 409 CHALLENGE_FULL; an individual challenge takes nobody else', async () => {
    const c = await createChallenge(t, creator, { max_members: 2 });
    expect((await join(t, member, c.invite_code)).statusCode).toBe(200);
    const res = await join(t, other, c.invite_code);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CHALLENGE_FULL');

    const solo = await createChallenge(t, creator, { type: 'individual' });
    expect((await join(t, member, solo.invite_code)).json().code).toBe('CHALLENGE_FULL');
    expect((await leave(creator, solo.id)).statusCode).toBe(204);
    expect((await join(t, member, solo.invite_code)).json().code).toBe('CHALLENGE_FULL');
  });

  it('ended → 409 CHALLENGE_ENDED (past its end date, or closed by a job)', async () => {
    const past = await createChallenge(t, creator, { end_date: '2026-06-20' });
    t.clock.advanceDays(6); // 2026-06-21
    try {
      const res = await join(t, await refreshed(t, member), past.invite_code);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('CHALLENGE_ENDED');
    } finally {
      t.clock.advanceDays(-6);
    }
    const closed = await createChallenge(t, creator);
    await t.db.withSystem((tx) => tx.execute(sql`update challenges set status = 'completed' where id = ${closed.id}`));
    expect((await join(t, member, closed.invite_code)).json().code).toBe('CHALLENGE_ENDED');
  });

  it('a member who left may rejoin; a removed member may not', async () => {
    const c = await createChallenge(t, creator);
    await join(t, member, c.invite_code);
    await join(t, other, c.invite_code);
    expect((await leave(member, c.id)).statusCode).toBe(204);
    const back = await join(t, member, c.invite_code);
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ my_role: 'member', member_count: 3 });

    expect((await kick(creator, c.id, other.id)).statusCode).toBe(204);
    const again = await join(t, other, c.invite_code);
    expect(again.statusCode).toBe(403);
    expect(again.json().code).toBe('FORBIDDEN');
  });
});

describe('POST /challenges/{id}/leave', () => {
  it('a member leaves: 204, the count drops, the creator is told, the challenge leaves my list', async () => {
    const c = await createChallenge(t, creator, { name: 'Leavers' });
    await join(t, member, c.invite_code);
    expect((await leave(member, c.id)).statusCode).toBe(204);
    const seen = await t.app.inject({ method: 'GET', url: `/api/v1/challenges/${c.id}`, headers: creator.auth });
    expect(seen.json().member_count).toBe(1);
    expect(await notifications(creator)).toContainEqual(expect.objectContaining({ type: 'member_left', title: 'Max left "Leavers"' }));
    const mine = await t.app.inject({ method: 'GET', url: '/api/v1/challenges', headers: member.auth });
    expect(mine.json().items.map((x: { id: string }) => x.id)).not.toContain(c.id);
    expect((await leave(member, c.id)).statusCode).toBe(404); // not a member any more
  });

  it('the creator cannot leave an active group challenge with other members → 409 CREATOR_CANNOT_LEAVE', async () => {
    const c = await createChallenge(t, creator);
    await join(t, member, c.invite_code);
    const res = await leave(creator, c.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CREATOR_CANNOT_LEAVE');
    // Once alone, the creator may leave — and come back as the creator.
    await leave(member, c.id);
    expect((await leave(creator, c.id)).statusCode).toBe(204);
    const back = await join(t, creator, c.invite_code);
    expect(back.json()).toMatchObject({ my_role: 'creator', member_count: 1 });
    expect((await patch(creator, c.id, { name: 'Mine again' })).statusCode).toBe(200);
  });

  it('nor a pending one (nobody would be left to manage it)', async () => {
    const c = await createChallenge(t, creator, { start_date: '2026-07-01', end_date: '2026-07-31' });
    await join(t, member, c.invite_code);
    expect((await leave(creator, c.id)).json().code).toBe('CREATOR_CANNOT_LEAVE');
  });

  it('a non-member gets 404', async () => {
    const c = await createChallenge(t, creator);
    expect((await leave(other, c.id)).statusCode).toBe(404);
  });
});

describe('DELETE /challenges/{id}/members/{user_id}', () => {
  it('creator removes a member: 204, member told, count drops', async () => {
    const c = await createChallenge(t, creator, { name: 'Strict' });
    await join(t, member, c.invite_code);
    expect((await kick(creator, c.id, member.id)).statusCode).toBe(204);
    expect(await notifications(member)).toContainEqual(expect.objectContaining({ type: 'member_removed', title: 'You were removed from "Strict"' }));
    const members = await t.app.inject({ method: 'GET', url: `/api/v1/challenges/${c.id}/members`, headers: creator.auth });
    expect(members.json().items.map((m: { user_id: string }) => m.user_id)).toEqual([creator.id]);
  });

  it('a plain member cannot remove anyone → 403; nobody can remove the creator', async () => {
    const c = await createChallenge(t, creator);
    await join(t, member, c.invite_code);
    await join(t, other, c.invite_code);
    const res = await kick(member, c.id, other.id);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('FORBIDDEN');
    expect((await kick(member, c.id, creator.id)).statusCode).toBe(403);
    // Promote `member` to admin (no endpoint yet): admins may remove members, never the creator.
    await t.db.withSystem((tx) => tx.execute(sql`update challenge_members set role = 'admin' where challenge_id = ${c.id} and user_id = ${member.id}`));
    expect((await kick(member, c.id, creator.id)).statusCode).toBe(403);
    expect((await kick(member, c.id, other.id)).statusCode).toBe(204);
  });

  it('a non-member gets 404; an unknown or already removed member 404; removing yourself 422', async () => {
    const c = await createChallenge(t, creator);
    await join(t, member, c.invite_code);
    expect((await kick(other, c.id, member.id)).statusCode).toBe(404);
    expect((await kick(creator, c.id, other.id)).statusCode).toBe(404);
    expect((await kick(creator, c.id, creator.id)).statusCode).toBe(422);
  });
});

describe('PATCH /challenges/{id}', () => {
  it('the creator edits; the result is validated like creation', async () => {
    const c = await createChallenge(t, creator);
    const res = await patch(creator, c.id, { name: 'Renamed', description: null, max_members: 20, require_evidence: true, end_date: '2026-08-01' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Renamed', description: null, max_members: 20, require_evidence: true, end_date: '2026-08-01' });
    expect((await patch(creator, c.id, { end_date: '2026-06-10' })).statusCode).toBe(422);
    expect((await patch(creator, c.id, { end_date: '2027-06-16' })).statusCode).toBe(422);
    expect((await patch(creator, c.id, { start_date: '2026-06-20' })).statusCode).toBe(422); // already started
    expect((await patch(creator, c.id, { name: 'x' })).statusCode).toBe(422);
    expect((await patch(creator, c.id, {})).statusCode).toBe(422);
    expect((await patch(creator, c.id, { created_by: member.id })).statusCode).toBe(400);
    expect((await patch(creator, c.id, { member_count: 50 })).statusCode).toBe(400);
  });

  it('max_members cannot go below the member count', async () => {
    const c = await createChallenge(t, creator);
    await join(t, member, c.invite_code);
    await join(t, other, c.invite_code);
    const res = await patch(creator, c.id, { max_members: 2 });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].path).toBe('body.max_members');
  });

  it('a pending challenge may move its start date, not into the past', async () => {
    const c = await createChallenge(t, creator, { start_date: '2026-06-20', end_date: '2026-07-01' });
    expect((await patch(creator, c.id, { start_date: '2026-06-14' })).statusCode).toBe(422);
    const res = await patch(creator, c.id, { start_date: '2026-06-15' });
    expect(res.json()).toMatchObject({ start_date: '2026-06-15', status: 'active' });
  });

  it('a member gets 403, a non-member 404 (even for a public challenge), an ended challenge 409', async () => {
    const c = await createChallenge(t, creator, { is_public: true });
    await join(t, member, c.invite_code);
    const res = await patch(member, c.id, { name: 'Hijacked' });
    expect(res.statusCode).toBe(403);
    expect((await patch(other, c.id, { name: 'Hijacked' })).statusCode).toBe(404);
    await t.db.withSystem((tx) => tx.execute(sql`update challenges set status = 'failed' where id = ${c.id}`));
    expect((await patch(creator, c.id, { name: 'Too late' })).json().code).toBe('CHALLENGE_ENDED');
  });
});
