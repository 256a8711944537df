// Retention and self-healing jobs. Each is safe to run any number of times.
import { sql } from 'drizzle-orm';
import type { JobDefinition } from '../types.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

export const notificationsCleanup: JobDefinition = {
  name: 'notifications.cleanup',
  description: 'Delete notifications that expired or are older than 30 days.',
  schedule: '15 3 * * *',
  timeoutMs: 10 * MINUTE,
  catchUpMs: 7 * DAY,
  retries: { attempts: 3, delayMs: 10_000 },
  async run(ctx) {
    const now = ctx.clock.now();
    const cutoff = new Date(now.getTime() - 30 * DAY);
    const deleted = await ctx.withSystem((tx) =>
      tx.execute(sql`delete from notifications where expires_at < ${now} or created_at < ${cutoff}`),
    );
    return { result: { deleted } };
  },
};

export const jobHistoryPrune: JobDefinition = {
  name: 'jobs.prune_history',
  description: 'Keep 90 days of job run history.',
  schedule: '30 3 * * *',
  timeoutMs: 10 * MINUTE,
  catchUpMs: 7 * DAY,
  retries: { attempts: 2, delayMs: 10_000 },
  async run(ctx) {
    const cutoff = new Date(ctx.clock.now().getTime() - 90 * DAY);
    const deleted = await ctx.withSystem((tx) =>
      tx.execute(sql`delete from job_runs where started_at < ${cutoff} and status <> 'running'`),
    );
    return { result: { deleted } };
  },
};

/**
 * The counters the stats and leaderboard reads use (member and challenge-habit totals) are kept by
 * the check-in transaction; this hourly pass recomputes them from the check-ins themselves and fixes
 * any drift (a manual data fix, a restore), so the aggregates stay trustworthy.
 */
export const statsRefresh: JobDefinition = {
  name: 'stats.refresh',
  description: 'Recompute check-in aggregates from the check-ins and repair any drift.',
  schedule: '20 * * * *',
  timeoutMs: 15 * MINUTE,
  catchUpMs: 2 * 60 * MINUTE,
  retries: { attempts: 2, delayMs: 30_000 },
  async run(ctx) {
    return ctx.withSystem(async (tx) => {
      const members = await tx.execute(sql`
        update challenge_members m set total_check_ins = s.n
        from (select m2.challenge_id, m2.user_id, count(ci.id) as n
              from challenge_members m2
              left join check_ins ci on ci.challenge_id = m2.challenge_id and ci.user_id = m2.user_id
              group by m2.challenge_id, m2.user_id) s
        where m.challenge_id = s.challenge_id and m.user_id = s.user_id and m.total_check_ins <> s.n`);
      const habits = await tx.execute(sql`
        update challenge_habits h set total_check_ins = s.n
        from (select h2.challenge_id, h2.habit_id, count(ci.id) as n
              from challenge_habits h2
              left join check_ins ci on ci.challenge_id = h2.challenge_id and ci.habit_id = h2.habit_id
              group by h2.challenge_id, h2.habit_id) s
        where h.challenge_id = s.challenge_id and h.habit_id = s.habit_id and h.total_check_ins <> s.n`);
      const profiles = await tx.execute(sql`
        update user_profiles p set total_check_ins = s.n
        from (select p2.user_id, count(ci.id) as n from user_profiles p2
              left join check_ins ci on ci.user_id = p2.user_id group by p2.user_id) s
        where p.user_id = s.user_id and p.total_check_ins <> s.n`);
      return { result: { members_fixed: members, habits_fixed: habits, profiles_fixed: profiles } };
    });
  },
};

/** Lockout counters (login_throttle) past their 15-minute window and not locked: nothing to keep. */
export const loginThrottlePrune: JobDefinition = {
  name: 'auth.prune_throttle',
  description: 'Delete login-failure counters whose window and lock have both expired.',
  schedule: '45 * * * *',
  timeoutMs: 5 * MINUTE,
  catchUpMs: DAY,
  retries: { attempts: 2, delayMs: 10_000 },
  async run(ctx) {
    const now = ctx.clock.now();
    const windowStart = new Date(now.getTime() - 15 * MINUTE);
    const deleted = await ctx.withSystem((tx) =>
      tx.execute(sql`delete from login_throttle
        where window_started_at < ${windowStart} and (locked_until is null or locked_until < ${now})`),
    );
    return { result: { deleted } };
  },
};
