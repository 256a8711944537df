// Direct inserts (as darezone_jobs) for job tests: the jobs read tables, not endpoints.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/database.js';

export const SYSTEM_HABIT_1 = '00000000-0000-4000-8000-000000000001';
export const SYSTEM_HABIT_2 = '00000000-0000-4000-8000-000000000002';

export async function seedChallenge(
  db: Database,
  opts: { creator: string; members?: string[]; start: string; end: string; status?: string; habits?: string[]; type?: string },
): Promise<string> {
  const id = randomUUID();
  const habits = opts.habits ?? [SYSTEM_HABIT_1];
  const members = [opts.creator, ...(opts.members ?? [])];
  await db.withSystem(async (tx) => {
    await tx.execute(sql`insert into challenges (id, name, type, status, start_date, end_date, max_members, checkin_type, created_by)
      values (${id}, 'Seeded challenge', ${opts.type ?? 'group'}, ${opts.status ?? 'active'}, ${opts.start}, ${opts.end}, 10, 'any', ${opts.creator})`);
    for (const [i, h] of habits.entries()) {
      await tx.execute(sql`insert into challenge_habits (challenge_id, habit_id, position) values (${id}, ${h}, ${i})`);
    }
    for (const [i, m] of members.entries()) {
      await tx.execute(sql`insert into challenge_members (challenge_id, user_id, role) values (${id}, ${m}, ${i === 0 ? 'creator' : 'member'})`);
    }
  });
  return id;
}

export async function seedCheckIns(db: Database, challengeId: string, userId: string, habitId: string, dates: string[]) {
  await db.withSystem(async (tx) => {
    for (const d of dates) {
      await tx.execute(sql`insert into check_ins (challenge_id, habit_id, user_id, local_date, points_earned, streak_after)
        values (${challengeId}, ${habitId}, ${userId}, ${d}, 10, 1)`);
    }
    await tx.execute(sql`update challenge_members set total_check_ins = total_check_ins + ${dates.length}
      where challenge_id = ${challengeId} and user_id = ${userId}`);
  });
}

export function dates(from: string, count: number): string[] {
  const start = new Date(`${from}T00:00:00Z`).getTime();
  return Array.from({ length: count }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

/** A snapshot of everything the jobs may change, to prove a second run changes nothing. */
export async function snapshot(db: Database) {
  return db.withSystem(async (tx) => ({
    challenges: await tx.query(sql`select id, status, completed_at from challenges order by id`),
    members: await tx.query(sql`select challenge_id, user_id, total_check_ins, hitches_remaining, hitches_date from challenge_members order by 1, 2`),
    habits: await tx.query(sql`select challenge_id, habit_id, total_check_ins from challenge_habits order by 1, 2`),
    profiles: await tx.query(sql`select user_id, total_check_ins, total_challenges_completed from user_profiles order by 1`),
    notifications: await tx.query(sql`select user_id, type, dedupe_key from notifications order by 1, 3`),
  }));
}
