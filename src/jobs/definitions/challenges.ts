// Challenge lifecycle jobs (§3, §5.5). Both are idempotent: they only touch challenges still in the
// state they move them out of, and their notifications carry a dedupe_key.
import { sql } from 'drizzle-orm';
import type { JobDefinition } from '../types.js';

const HOUR = 3_600_000;

export const activateChallenges: JobDefinition = {
  name: 'challenges.activate',
  description: 'Mark pending challenges whose start date has arrived as active and tell their members.',
  schedule: '0 * * * *', // hourly: reads derive the status from the dates anyway; this persists it
  timeoutMs: 5 * 60_000,
  catchUpMs: 48 * HOUR,
  retries: { attempts: 3, delayMs: 10_000 },
  async run(ctx) {
    const today = ctx.clock.now().toISOString().slice(0, 10);
    const now = ctx.clock.now();
    return ctx.withSystem(async (tx) => {
      const activated = await tx.query<{ id: string; name: string }>(sql`
        update challenges set status = 'active', updated_at = ${now}
        where status = 'pending' and start_date <= ${today}::date and end_date >= ${today}::date
        returning id, name`);
      let notified = 0;
      for (const c of activated) {
        notified += await tx.execute(sql`
          insert into notifications (user_id, type, title, body, data, dedupe_key, created_at, expires_at)
          select m.user_id, 'challenge_started', ${`"${c.name}" has started`}, 'Check in today to start your streak.',
                 jsonb_build_object('challenge_id', ${c.id}::uuid), ${`challenge-started:${c.id}`}, ${now}, ${now}::timestamptz + interval '30 days'
          from challenge_members m where m.challenge_id = ${c.id} and m.status = 'active'
          on conflict (user_id, dedupe_key) do nothing`);
      }
      return { result: { activated: activated.length, notified } };
    });
  },
};

/**
 * Completion rate of a member = check-ins / (habits × days of the challenge). The challenge is
 * completed when the average over its active members is at least 80 % (§3), failed otherwise.
 */
export const autoCompleteChallenges: JobDefinition = {
  name: 'challenges.auto_complete',
  description: 'Close challenges whose end date has passed: completed (≥ 80 % average completion) or failed.',
  schedule: '5 0 * * *',
  timeoutMs: 15 * 60_000,
  catchUpMs: 48 * HOUR,
  retries: { attempts: 3, delayMs: 30_000 },
  async run(ctx) {
    const now = ctx.clock.now();
    const today = now.toISOString().slice(0, 10);
    return ctx.withSystem(async (tx) => {
      const ended = await tx.query<{ id: string; name: string; rate: number }>(sql`
        with ended as (
          select c.id, c.name, (c.end_date - c.start_date + 1) as days,
                 (select count(*) from challenge_habits h where h.challenge_id = c.id) as habits
          from challenges c
          where c.status in ('pending', 'active') and c.end_date < ${today}::date
          for update of c skip locked
        )
        select e.id, e.name,
               coalesce((select avg(least(1.0, m.total_check_ins::numeric / greatest(1, e.days * e.habits)))
                         from challenge_members m where m.challenge_id = e.id and m.status = 'active'), 0) as rate
        from ended e`);
      let completed = 0;
      for (const c of ended) {
        const status = c.rate >= 0.8 ? 'completed' : 'failed';
        if (status === 'completed') completed++;
        await tx.execute(sql`update challenges set status = ${status}, completed_at = ${now}, updated_at = ${now} where id = ${c.id}`);
        if (status === 'completed') {
          await tx.execute(sql`
            update user_profiles p set total_challenges_completed = total_challenges_completed + 1, updated_at = ${now}
            from challenge_members m
            where m.challenge_id = ${c.id} and m.status = 'active' and m.user_id = p.user_id`);
        }
        const pct = Math.round(c.rate * 100);
        await tx.execute(sql`
          insert into notifications (user_id, type, title, body, data, dedupe_key, created_at, expires_at)
          select m.user_id, ${`challenge_${status}`},
                 ${status === 'completed' ? `"${c.name}" completed!` : `"${c.name}" has ended`},
                 ${`The group reached ${pct}% average completion (80% needed).`},
                 jsonb_build_object('challenge_id', ${c.id}::uuid, 'status', ${status}::text, 'completion_rate', ${c.rate}::numeric),
                 ${`challenge-ended:${c.id}`}, ${now}, ${now}::timestamptz + interval '30 days'
          from challenge_members m where m.challenge_id = ${c.id} and m.status = 'active'
          on conflict (user_id, dedupe_key) do nothing`);
      }
      return { result: { ended: ended.length, completed, failed: ended.length - completed } };
    });
  },
};
