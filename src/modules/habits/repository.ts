import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';
import { after, micros, type Keyset } from '../challenges/keyset.js';

export interface HabitRow {
  id: string;
  name: string;
  icon: string | null;
  description: string | null;
  category: string | null;
  is_system: boolean;
  created_by: string | null;
  created_at: Date;
  cursor_us: number;
}

export const habitColumns = sql`h.id, h.name, h.icon, h.description, h.category, h.is_system, h.created_by, h.created_at`;

/**
 * System habits, mine, and those of challenges I am an active member of. RLS alone would also show
 * habits of every public challenge (they are readable), which is not what "my habits" means.
 */
export function listHabits(tx: Tx, userId: string, limit: number, cursor?: Keyset) {
  return tx.query<HabitRow>(sql`
    select ${habitColumns}, ${micros(sql`h.created_at`)} as cursor_us
    from habits h
    where (h.is_system or h.created_by = ${userId}
           or exists (select 1 from challenge_habits ch
                      join challenge_members m on m.challenge_id = ch.challenge_id
                      where ch.habit_id = h.id and m.user_id = ${userId} and m.status = 'active'))
      and ${after(sql`h.created_at`, sql`h.id`, cursor, 'asc')}
    order by h.created_at, h.id
    limit ${limit + 1}`);
}

export function insertHabit(
  tx: Tx,
  userId: string,
  habit: { name: string; icon: string | null; description: string | null; category: string | null },
) {
  return tx.one<HabitRow>(sql`
    insert into habits as h (name, icon, description, category, is_system, created_by)
    values (${habit.name}, ${habit.icon}, ${habit.description}, ${habit.category}, false, ${userId})
    returning ${habitColumns}, ${micros(sql`h.created_at`)} as cursor_us`);
}

/** Of `ids`, those the caller may use: visible to them (RLS: system, own, or of a challenge they see). */
export async function visibleHabitIds(tx: Tx, ids: string[]): Promise<Set<string>> {
  const rows = await tx.query<{ id: string }>(sql`select id from habits where id = any(${sql.param(ids)}::uuid[])`);
  return new Set(rows.map((r) => r.id));
}
