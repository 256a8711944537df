// The real jobs against seeded data, with the test clock: outcomes, and idempotency (a second run
// changes nothing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { JOBS } from '../../src/jobs/registry.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { createTestApp, type TestContext, type TestUser } from '../helpers/app.js';
import { dates, seedChallenge, seedCheckIns, snapshot, SYSTEM_HABIT_1 } from './seed.js';

let t: TestContext;
let s: Scheduler;
const run = async (name: string) => (await (await s.trigger(name)).done);
const notifications = (userId: string, type?: string) =>
  t.db.withSystem((tx) => tx.query<{ type: string; dedupe_key: string; title: string }>(
    sql`select type, dedupe_key, title from notifications where user_id = ${userId} ${type ? sql`and type = ${type}` : sql``} order by created_at`));

beforeAll(async () => {
  t = await createTestApp();
  s = new Scheduler({ db: t.db, clock: t.clock, log: t.app.log, jobs: JOBS });
});
afterAll(() => t.close());

describe('challenges.auto_complete', () => {
  let a: TestUser, b: TestUser, c: TestUser;
  let good: string, bad: string, running: string;
  beforeAll(async () => {
    [a, b, c] = [await t.users.create(), await t.users.create(), await t.users.create()];
    // 10-day challenges ended 2026-03-10; "good": both members checked in 9/10 days (90 %).
    good = await seedChallenge(t.db, { creator: a.id, members: [b.id], start: '2026-03-01', end: '2026-03-10' });
    await seedCheckIns(t.db, good, a.id, SYSTEM_HABIT_1, dates('2026-03-01', 9));
    await seedCheckIns(t.db, good, b.id, SYSTEM_HABIT_1, dates('2026-03-02', 9));
    // "bad": 10/10 and 4/10 → 70 % average.
    bad = await seedChallenge(t.db, { creator: b.id, members: [c.id], start: '2026-03-01', end: '2026-03-10' });
    await seedCheckIns(t.db, bad, b.id, SYSTEM_HABIT_1, dates('2026-03-01', 10));
    await seedCheckIns(t.db, bad, c.id, SYSTEM_HABIT_1, dates('2026-03-01', 4));
    running = await seedChallenge(t.db, { creator: c.id, start: '2026-03-05', end: '2026-03-20' });
  });

  it('closes ended challenges by their average completion, notifies each member once, leaves active ones alone', async () => {
    t.clock.set('2026-03-11T00:05:00Z');
    const finished = await run('challenges.auto_complete');
    expect(finished.status).toBe('success');
    const statuses = await t.db.withSystem((tx) => tx.query<{ id: string; status: string }>(sql`select id, status from challenges`));
    const byId = Object.fromEntries(statuses.map((r) => [r.id, r.status]));
    expect(byId[good]).toBe('completed');
    expect(byId[bad]).toBe('failed');
    expect(byId[running]).toBe('active');
    expect(await notifications(a.id, 'challenge_completed')).toHaveLength(1);
    expect(await notifications(b.id, 'challenge_completed')).toHaveLength(1);
    expect(await notifications(b.id, 'challenge_failed')).toHaveLength(1);
    expect(await notifications(c.id, 'challenge_failed')).toHaveLength(1);
    const completedCounts = await t.db.withSystem((tx) => tx.query<{ user_id: string; total_challenges_completed: number }>(
      sql`select user_id, total_challenges_completed from user_profiles where user_id in (${a.id}, ${b.id}, ${c.id})`));
    expect(Object.fromEntries(completedCounts.map((r) => [r.user_id, r.total_challenges_completed]))).toEqual({ [a.id]: 1, [b.id]: 1, [c.id]: 0 });
  });
});

describe('reminders.streak in each user\'s time zone', () => {
  it('one reminder after 08:00 local, none before, none twice, none if already checked in', async () => {
    const utc = await t.users.create({ timezone: 'UTC' });
    const ny = await t.users.create({ timezone: 'America/New_York' });
    const hcm = await t.users.create({ timezone: 'Asia/Ho_Chi_Minh' });
    const done = await t.users.create({ timezone: 'UTC' });
    const ch = await seedChallenge(t.db, { creator: utc.id, members: [ny.id, hcm.id, done.id], start: '2026-04-01', end: '2026-04-30' });
    await seedCheckIns(t.db, ch, done.id, SYSTEM_HABIT_1, ['2026-04-10']);
    const reminders = async (u: TestUser) => (await notifications(u.id, 'daily_reminder')).length;

    t.clock.set('2026-04-10T07:30:00Z'); // UTC 07:30, New York 03:30, Ho Chi Minh 14:30
    await run('reminders.streak');
    expect([await reminders(utc), await reminders(ny), await reminders(hcm), await reminders(done)]).toEqual([0, 0, 1, 0]);

    t.clock.set('2026-04-10T08:15:00Z'); // UTC 08:15
    await run('reminders.streak');
    expect([await reminders(utc), await reminders(ny), await reminders(hcm), await reminders(done)]).toEqual([1, 0, 1, 0]);

    t.clock.set('2026-04-10T12:15:00Z'); // New York 08:15
    await run('reminders.streak');
    await run('reminders.streak');
    expect([await reminders(utc), await reminders(ny), await reminders(hcm), await reminders(done)]).toEqual([1, 1, 1, 0]);
    expect((await notifications(ny.id, 'daily_reminder'))[0]!.dedupe_key).toBe('reminder:2026-04-10');
  });
});

describe('every job is idempotent', () => {
  it('running each job twice on the same data: the second run changes nothing', async () => {
    const u = await t.users.create();
    const v = await t.users.create({ timezone: 'Asia/Ho_Chi_Minh' });
    await seedChallenge(t.db, { creator: u.id, members: [v.id], start: '2026-05-01', end: '2026-05-05', status: 'active' });
    const pending = await seedChallenge(t.db, { creator: v.id, start: '2026-05-06', end: '2026-05-20', status: 'pending' });
    await seedCheckIns(t.db, pending, v.id, SYSTEM_HABIT_1, []);
    await t.db.withSystem((tx) => tx.execute(sql`update challenge_members set hitches_remaining = 0`));
    await t.db.withSystem((tx) => tx.execute(sql`insert into notifications (user_id, type, title, created_at, expires_at)
      values (${u.id}, 'old', 'old one', '2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z')`));
    t.clock.set('2026-05-06T09:00:00Z');
    for (const job of JOBS) {
      const first = await run(job.name);
      expect(first.status, `${job.name} first run: ${first.error ?? ''}`).toBe('success');
      const before = await snapshot(t.db);
      const second = await run(job.name);
      expect(second.status).toBe('success');
      expect(await snapshot(t.db), `${job.name} changed data on its second run`).toEqual(before);
    }
    const after = await t.db.withSystem((tx) => tx.query<{ status: string }>(sql`select status from challenges where id = ${pending}`));
    expect(after[0]!.status).toBe('active');
  });
});

describe('auth.prune_throttle', () => {
  it('removes expired counters, keeps live windows and active locks', async () => {
    t.clock.set('2026-07-01T12:00:00Z');
    await t.db.withSystem((tx) => tx.execute(sql`insert into login_throttle (email_normalized, failures, window_started_at, locked_until) values
      ('old@example.test', 3, '2026-07-01T11:00:00Z', null),
      ('live@example.test', 2, '2026-07-01T11:55:00Z', null),
      ('locked@example.test', 5, '2026-07-01T11:40:00Z', '2026-07-01T12:10:00Z'),
      ('unlocked@example.test', 5, '2026-07-01T11:00:00Z', '2026-07-01T11:15:00Z')`));
    expect((await run('auth.prune_throttle')).status).toBe('success');
    const left = await t.db.withSystem((tx) => tx.query<{ email_normalized: string }>(sql`select email_normalized from login_throttle order by 1`));
    expect(left.map((r) => r.email_normalized)).toEqual(['live@example.test', 'locked@example.test']);
  });
});
