// Concurrent duplicates: the unique key check_ins_once_per_day decides, not a read-then-write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext } from '../../helpers/app.js';
import { checkIn, createChallenge, HABITS, join } from '../challenges/fixtures.js';

let t: TestContext;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('concurrent check-ins', () => {
  it('20 identical check-ins at once → exactly one 201, nineteen 409, counters moved once', async () => {
    const user = await t.users.create();
    const c = await createChallenge(t, user);
    const results = await Promise.all(Array.from({ length: 20 }, () => checkIn(t, user, { challenge_id: c.id, habit_id: HABITS.water })));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, ...Array<number>(19).fill(409)]);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().code).toBe('DUPLICATE_CHECK_IN');

    const counters = await t.db.withSystem((tx) => tx.one(sql`
      select (select count(*)::int from check_ins where challenge_id = ${c.id}) as rows,
             m.total_check_ins, m.points, m.current_streak, p.total_check_ins as profile_total, p.points as profile_points,
             ch.total_check_ins as habit_total
      from challenge_members m join user_profiles p on p.user_id = m.user_id
      join challenge_habits ch on ch.challenge_id = m.challenge_id and ch.habit_id = ${HABITS.water}
      where m.challenge_id = ${c.id} and m.user_id = ${user.id}`));
    expect(counters).toEqual({ rows: 1, total_check_ins: 1, points: 10, current_streak: 1, profile_total: 1, profile_points: 10, habit_total: 1 });
  });

  it('many members checking in the same habit at once all succeed and each counts', async () => {
    const owner = await t.users.create();
    const c = await createChallenge(t, owner, { max_members: 12 });
    const members = [owner, ...(await Promise.all(Array.from({ length: 9 }, () => t.users.create())))];
    for (const m of members.slice(1)) expect((await join(t, m, c.invite_code)).statusCode).toBe(200);
    const results = await Promise.all(
      members.flatMap((m) => [HABITS.water, HABITS.exercise].map((habit_id) => checkIn(t, m, { challenge_id: c.id, habit_id }))),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array<number>(20).fill(201));
    const totals = await t.db.withSystem((tx) =>
      tx.query(sql`select habit_id, total_check_ins from challenge_habits where challenge_id = ${c.id} order by position`));
    expect(totals).toEqual([{ habit_id: HABITS.exercise, total_check_ins: 10 }, { habit_id: HABITS.water, total_check_ins: 10 }]);
  });
});
