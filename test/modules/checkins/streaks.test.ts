// Streaks and points over a sequence of local days, driven by the test clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { TestClock } from '../../helpers/clock.js';
import { checkIn, createChallenge, HABITS, refreshed } from '../challenges/fixtures.js';

let t: TestContext;

beforeAll(async () => {
  t = await createTestApp({ clock: new TestClock('2026-06-15T12:00:00Z') });
});
afterAll(() => t.close());

/** Check in at `at` (UTC instant) with a fresh token. */
async function checkInAt(user: TestUser, at: string, payload: Record<string, unknown>) {
  t.clock.set(at);
  return checkIn(t, await refreshed(t, user), payload);
}

const day = (n: number) => `2026-06-${String(15 + n).padStart(2, '0')}T12:00:00Z`;

async function member(challengeId: string, userId: string) {
  return t.db.withSystem((tx) => tx.one(sql`
    select m.current_streak, m.longest_streak, m.points, m.total_check_ins, m.last_check_in_date,
           p.current_streak as profile_streak, p.longest_streak as profile_longest, p.points as profile_points
    from challenge_members m join user_profiles p on p.user_id = m.user_id
    where m.challenge_id = ${challengeId} and m.user_id = ${userId}`));
}

async function milestones(userId: string) {
  return t.db.withSystem((tx) => tx.query(sql`select type, title, data from notifications where user_id = ${userId} and type = 'streak_milestone'`));
}

describe('streaks and points', () => {
  it('continue, double points, break (streak_broken, back to 1), longest kept', async () => {
    t.clock.set(day(0));
    const user = await t.users.create();
    const c = await createChallenge(t, await refreshed(t, user), { end_date: '2026-08-01' });
    const habit = { challenge_id: c.id, habit_id: HABITS.water };

    const d0 = (await checkInAt(user, day(0), habit)).json();
    expect(d0).toMatchObject({ new_streak: 1, points_earned: 10, streak_broken: false });
    // A second habit on the same day: the day already counts; a single-day streak earns the base points.
    const d0b = (await checkInAt(user, day(0), { ...habit, habit_id: HABITS.exercise })).json();
    expect(d0b).toMatchObject({ new_streak: 1, points_earned: 10, streak_broken: false });

    const d1 = (await checkInAt(user, day(1), habit)).json();
    expect(d1).toMatchObject({ new_streak: 2, points_earned: 20, streak_broken: false });
    const d1b = (await checkInAt(user, day(1), { ...habit, habit_id: HABITS.exercise })).json();
    expect(d1b).toMatchObject({ new_streak: 2, points_earned: 20 });
    expect((await checkInAt(user, day(2), habit)).json()).toMatchObject({ new_streak: 3, points_earned: 20 });

    // Day 3 missed.
    const d4 = (await checkInAt(user, day(4), habit)).json();
    expect(d4).toMatchObject({ new_streak: 1, points_earned: 10, streak_broken: true });
    expect((await checkInAt(user, day(5), habit)).json()).toMatchObject({ new_streak: 2, points_earned: 20, streak_broken: false });

    expect(await member(c.id, user.id)).toEqual({
      current_streak: 2, longest_streak: 3, points: 10 + 10 + 20 + 20 + 20 + 10 + 20, total_check_ins: 7, last_check_in_date: '2026-06-20',
      profile_streak: 2, profile_longest: 3, profile_points: 110,
    });

    // Reads show a lapsed streak as 0 even before the next check-in updates the stored number.
    t.clock.set(day(8));
    const members = await t.app.inject({ method: 'GET', url: `/api/v1/challenges/${c.id}/members`, headers: (await refreshed(t, user)).auth });
    expect(members.json().items[0]).toMatchObject({ current_streak: 0, longest_streak: 3, points: 110, last_check_in_date: '2026-06-20' });
  });

  it('the profile streak counts days with a check-in in any challenge', async () => {
    t.clock.set(day(0));
    const user = await t.users.create();
    const a = await createChallenge(t, await refreshed(t, user), { end_date: '2026-08-01' });
    const b = await createChallenge(t, await refreshed(t, user), { end_date: '2026-08-01' });
    await checkInAt(user, day(0), { challenge_id: a.id, habit_id: HABITS.water });
    await checkInAt(user, day(1), { challenge_id: b.id, habit_id: HABITS.water });
    expect((await checkInAt(user, day(2), { challenge_id: a.id, habit_id: HABITS.water })).json()).toMatchObject({
      new_streak: 1, streak_broken: true, // a's own streak lapsed on day 1
    });
    const row = await member(a.id, user.id);
    expect(row).toMatchObject({ current_streak: 1, profile_streak: 3, profile_longest: 3, profile_points: 30 });
  });

  it('7 consecutive days → one milestone notification, created once', async () => {
    t.clock.set(day(0));
    const user = await t.users.create();
    const c = await createChallenge(t, await refreshed(t, user), { name: 'Seven', end_date: '2026-08-01' });
    for (let i = 0; i < 6; i++) await checkInAt(user, day(i), { challenge_id: c.id, habit_id: HABITS.water });
    expect(await milestones(user.id)).toEqual([]);
    const seventh = (await checkInAt(user, day(6), { challenge_id: c.id, habit_id: HABITS.water })).json();
    expect(seventh).toMatchObject({ new_streak: 7, points_earned: 20 });
    // Another habit the same day keeps the streak at 7 without a second notification.
    expect((await checkInAt(user, day(6), { challenge_id: c.id, habit_id: HABITS.exercise })).json().new_streak).toBe(7);
    await checkInAt(user, day(7), { challenge_id: c.id, habit_id: HABITS.water });
    const notes = await milestones(user.id);
    expect(notes).toEqual([{ type: 'streak_milestone', title: '7-day streak!', data: { challenge_id: c.id, streak: 7 } }]);
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/notifications', headers: (await refreshed(t, user)).auth });
    expect(list.json().items).toHaveLength(1);
  });

  it('Asia/Ho_Chi_Minh at 06:00 local (23:00 UTC the day before) checks in on the local date', async () => {
    t.clock.set('2026-06-15T12:00:00Z');
    const user = await t.users.create({ timezone: 'Asia/Ho_Chi_Minh' });
    const c = await createChallenge(t, await refreshed(t, user), { end_date: '2026-08-01' });
    const first = await checkInAt(user, '2026-06-15T23:00:00Z', { challenge_id: c.id, habit_id: HABITS.water });
    expect(first.statusCode).toBe(201);
    expect(first.json().checkin.local_date).toBe('2026-06-16');
    // 22:00 local on the 16th is still the same local day: a duplicate.
    const sameDay = await checkInAt(user, '2026-06-16T15:00:00Z', { challenge_id: c.id, habit_id: HABITS.water });
    expect(sameDay.json().code).toBe('DUPLICATE_CHECK_IN');
    // 07:30 local on the 17th (00:30 UTC) continues the streak.
    const next = await checkInAt(user, '2026-06-17T00:30:00Z', { challenge_id: c.id, habit_id: HABITS.water });
    expect(next.json()).toMatchObject({ new_streak: 2, points_earned: 20, checkin: { local_date: '2026-06-17' } });
    const today = await t.app.inject({ method: 'GET', url: '/api/v1/checkins/today', headers: (await refreshed(t, user)).auth });
    expect(today.json()).toMatchObject({
      local_date: '2026-06-17',
      checkins: [{ habit_id: HABITS.water }],
      remaining: [{ challenge_id: c.id, habit_id: HABITS.exercise, habit_name: 'Exercise' }],
    });
  });
});
