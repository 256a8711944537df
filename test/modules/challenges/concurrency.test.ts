// "Full" under concurrency: the member_count trigger recounts under the challenge row's lock and
// the challenges_capacity check turns the extra joins into 409s, on both engines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext } from '../../helpers/app.js';
import { createChallenge, join } from './fixtures.js';

let t: TestContext;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('concurrent joins', () => {
  it('20 joins of a challenge with 5 free places → exactly 5 succeed, the rest 409 CHALLENGE_FULL', async () => {
    const creator = await t.users.create();
    const c = await createChallenge(t, creator, { max_members: 6 });
    const joiners = await Promise.all(Array.from({ length: 20 }, () => t.users.create()));
    const results = await Promise.all(joiners.map((u) => join(t, u, c.invite_code)));
    const ok = results.filter((r) => r.statusCode === 200);
    const full = results.filter((r) => r.statusCode === 409);
    expect(ok).toHaveLength(5);
    expect(full).toHaveLength(15);
    for (const r of full) expect(r.json().code).toBe('CHALLENGE_FULL');

    const row = await t.db.withSystem((tx) => tx.one(sql`
      select c.member_count, (select count(*)::int from challenge_members m where m.challenge_id = c.id and m.status = 'active') as active
      from challenges c where c.id = ${c.id}`));
    expect(row).toEqual({ member_count: 6, active: 6 });
    // The creator heard about each of the five, and only those.
    const joined = await t.db.withSystem((tx) =>
      tx.one<{ n: number }>(sql`select count(*)::int as n from notifications where user_id = ${creator.id} and type = 'member_joined'`));
    expect(joined!.n).toBe(5);
  });

  it('the same user joining twice at once → one 200, one 409 ALREADY_MEMBER', async () => {
    const creator = await t.users.create();
    const c = await createChallenge(t, creator);
    const user = await t.users.create();
    const results = await Promise.all([join(t, user, c.invite_code), join(t, user, c.invite_code)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.statusCode === 409)!.json().code).toBe('ALREADY_MEMBER');
  });
});
