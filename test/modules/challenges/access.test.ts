// Object-level authorization: what a non-member may see of a challenge, through the API and — with
// the API layer bypassed — at the database level (row-level security).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { findChallenge, habitsOf, listMyChallenges } from '../../../src/modules/challenges/repository.js';
import { listActiveMembers } from '../../../src/modules/challenges/members-repository.js';
import { checkinsOnDates, listCheckins } from '../../../src/modules/checkins/repository.js';
import { checkIn, createChallenge, HABITS, join, TODAY } from './fixtures.js';

let t: TestContext;
let owner: TestUser;
let member: TestUser;
let stranger: TestUser;
let priv: { id: string; invite_code: string };
let pub: { id: string; invite_code: string };

beforeAll(async () => {
  t = await createTestApp();
  owner = await t.users.create();
  member = await t.users.create();
  stranger = await t.users.create();
  priv = await createChallenge(t, owner, { name: 'Private one' });
  pub = await createChallenge(t, owner, { name: 'Public one', is_public: true });
  for (const c of [priv, pub]) {
    await join(t, member, c.invite_code);
    await checkIn(t, owner, { challenge_id: c.id, habit_id: HABITS.water, caption: 'secret caption' });
  }
});
afterAll(() => t.close());

const get = (user: TestUser, url: string) => t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: user.auth });

describe('a private challenge', () => {
  it('is readable by its members', async () => {
    for (const path of ['', '/members', '/progress', '/checkins']) {
      expect((await get(member, `/challenges/${priv.id}${path}`)).statusCode).toBe(200);
    }
  });

  it('is 404 for a non-member: the challenge, its members, progress and check-ins', async () => {
    for (const path of ['', '/members', '/progress', '/checkins']) {
      const res = await get(stranger, `/challenges/${priv.id}${path}`);
      expect(res.statusCode, path).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
    const res = await checkIn(t, stranger, { challenge_id: priv.id, habit_id: HABITS.water });
    expect(res.statusCode).toBe(404);
  });

  it('is invisible at the database level to a non-member (row-level security, API layer bypassed)', async () => {
    const rows = await t.db.withUser(stranger.id, async (tx) => ({
      challenge: await findChallenge(tx, priv.id, stranger.id, TODAY),
      habits: await habitsOf(tx, [priv.id]),
      members: await listActiveMembers(tx, priv.id, { limit: 100 }),
      checkins: await listCheckins(tx, { challengeId: priv.id }, 100),
      today: await checkinsOnDates(tx, priv.id, [TODAY]),
    }));
    expect(rows).toEqual({ challenge: undefined, habits: [], members: [], checkins: [], today: [] });
    // The same calls as a member see everything: the emptiness above is the policy, not the query.
    const seen = await t.db.withUser(member.id, async (tx) => ({
      challenge: await findChallenge(tx, priv.id, member.id, TODAY),
      members: await listActiveMembers(tx, priv.id, { limit: 100 }),
      checkins: await listCheckins(tx, { challengeId: priv.id }, 100),
    }));
    expect(seen.challenge?.id).toBe(priv.id);
    expect(seen.members).toHaveLength(2);
    expect(seen.checkins).toHaveLength(1);
  });

  it("does not appear in a non-member's list", async () => {
    const mine = await t.db.withUser(stranger.id, (tx) => listMyChallenges(tx, stranger.id, TODAY, { limit: 100 }));
    expect(mine).toEqual([]);
  });
});

describe('roles at the database level', () => {
  it('a member cannot promote themselves to admin or creator, even by writing SQL as the API role', async () => {
    for (const role of ['admin', 'creator']) {
      await expect(
        t.db.withUser(member.id, (tx) =>
          tx.execute(sql`update challenge_members set role = ${role} where challenge_id = ${priv.id} and user_id = ${member.id}`)),
      ).rejects.toThrow(/row-level security/);
    }
  });
});

describe('a public challenge', () => {
  it('is readable with its members by anyone signed in, but its progress and check-ins are for members (403)', async () => {
    const c = await get(stranger, `/challenges/${pub.id}`);
    expect(c.statusCode).toBe(200);
    expect(c.json()).toMatchObject({ id: pub.id, my_role: null, my_status: null });
    expect((await get(stranger, `/challenges/${pub.id}/members`)).statusCode).toBe(200);
    expect((await get(stranger, `/challenges/${pub.id}/progress`)).statusCode).toBe(403);
    expect((await get(stranger, `/challenges/${pub.id}/checkins`)).statusCode).toBe(403);
    // Check-ins stay hidden at the database level too.
    expect(await t.db.withUser(stranger.id, (tx) => listCheckins(tx, { challengeId: pub.id }, 100))).toEqual([]);
  });
});

describe('a member who left', () => {
  it('still sees the challenge (their history) but no longer its feed or progress', async () => {
    const c = await createChallenge(t, owner);
    const leaver = await t.users.create();
    await join(t, leaver, c.invite_code);
    await t.app.inject({ method: 'POST', url: `/api/v1/challenges/${c.id}/leave`, headers: leaver.auth });
    expect((await get(leaver, `/challenges/${c.id}`)).json()).toMatchObject({ my_status: 'left', my_role: null });
    expect((await get(leaver, `/challenges/${c.id}/checkins`)).statusCode).toBe(403);
  });
});

describe('progress', () => {
  it("shows each member's check-ins per habit for their local today", async () => {
    const res = await get(owner, `/challenges/${priv.id}/progress`);
    expect(res.json()).toMatchObject({
      challenge_id: priv.id,
      habits: [{ id: HABITS.exercise }, { id: HABITS.water }],
      members: [
        { user_id: owner.id, local_date: TODAY, done: 1, current_streak: 1, points: 10, habits: [{ habit_id: HABITS.exercise, checked_in: false, checkin_id: null }, { habit_id: HABITS.water, checked_in: true }] },
        { user_id: member.id, local_date: TODAY, done: 0, current_streak: 0 },
      ],
    });
  });
});
