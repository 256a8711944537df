// Jobs that talk to users: streak reminders in each user's own time zone, and the daily hitch reset.
import { sql } from 'drizzle-orm';
import type { JobDefinition } from '../types.js';

const MINUTE = 60_000;

/**
 * Every 15 minutes: users whose local time has passed 08:00 and who still have an unchecked habit in
 * an active challenge today get one reminder for that local day (dedupe_key carries the local date,
 * so a re-run or an overlapping instance cannot send a second one).
 */
export const streakReminders: JobDefinition = {
  name: 'reminders.streak',
  description: 'Remind members after 08:00 their local time when a habit is still unchecked today.',
  schedule: '*/15 * * * *',
  timeoutMs: 10 * MINUTE,
  catchUpMs: 2 * 60 * MINUTE, // a reminder more than 2 h late is skipped: the next slot sends it
  retries: { attempts: 2, delayMs: 30_000 },
  async run(ctx) {
    const now = ctx.clock.now();
    const sent = await ctx.withSystem((tx) =>
      tx.execute(sql`
        with local as (
          select p.user_id, (${now}::timestamptz at time zone p.timezone) as local_ts
          from user_profiles p
        ), due as (
          select distinct l.user_id, l.local_ts::date as local_date
          from local l
          join challenge_members m on m.user_id = l.user_id and m.status = 'active'
          join challenges c on c.id = m.challenge_id
          join challenge_habits h on h.challenge_id = c.id
          where l.local_ts::time >= time '08:00'
            and c.status in ('pending', 'active')
            and l.local_ts::date between c.start_date and c.end_date
            and not exists (select 1 from check_ins ci
                            where ci.challenge_id = c.id and ci.habit_id = h.habit_id
                              and ci.user_id = l.user_id and ci.local_date = l.local_ts::date)
        )
        insert into notifications (user_id, type, title, body, data, dedupe_key, created_at, expires_at)
        select d.user_id, 'daily_reminder', 'Keep your streak alive', 'You still have habits to check in today.',
               jsonb_build_object('local_date', d.local_date), 'reminder:' || d.local_date::text, ${now},
               ${now}::timestamptz + interval '30 days'
        from due d
        on conflict (user_id, dedupe_key) do nothing`),
    );
    return { result: { sent } };
  },
};

export const hitchReset: JobDefinition = {
  name: 'hitch.reset',
  description: 'Give every member their 2 daily hitches back.',
  schedule: '0 0 * * *',
  timeoutMs: 5 * MINUTE,
  catchUpMs: 24 * 60 * MINUTE,
  retries: { attempts: 3, delayMs: 10_000 },
  async run(ctx) {
    const today = ctx.clock.now().toISOString().slice(0, 10);
    const reset = await ctx.withSystem((tx) =>
      tx.execute(sql`
        update challenge_members set hitches_remaining = 2, hitches_date = ${today}::date
        where hitches_date is distinct from ${today}::date or hitches_remaining <> 2`),
    );
    return { result: { reset } };
  },
};
