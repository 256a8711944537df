// Notifications SQL. Reads and changes are always the caller's own rows: RLS allows nothing else,
// and the explicit user_id filter lets the (user_id, created_at, id) index serve the list.
import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';
import { after, micros, type Keyset } from '../challenges/keyset.js';

export interface NotificationRow {
  id: string;
  type: string;
  title: string;
  body: string | null;
  data: Record<string, unknown>;
  read_at: Date | null;
  created_at: Date;
  cursor_us: number;
}

export interface NewNotification {
  userId: string;
  type: string;
  title: string;
  body?: string;
  data?: Record<string, unknown>;
  /** Same key for the same user → created once (e.g. one milestone notification per streak). */
  dedupeKey?: string;
}

const columns = sql`n.id, n.type, n.title, n.body, n.data, n.read_at, n.created_at, ${micros(sql`n.created_at`)} as cursor_us`;

export function listNotifications(tx: Tx, userId: string, opts: { unread: boolean; limit: number; cursor?: Keyset }) {
  return tx.query<NotificationRow>(sql`
    select ${columns} from notifications n
    where n.user_id = ${userId} and n.expires_at > now()
      and (${!opts.unread} or n.read_at is null)
      and ${after(sql`n.created_at`, sql`n.id`, opts.cursor, 'desc')}
    order by n.created_at desc, n.id desc
    limit ${opts.limit + 1}`);
}

export async function countUnread(tx: Tx, userId: string): Promise<number> {
  const row = await tx.one<{ count: number }>(sql`
    select count(*)::int as count from notifications
    where user_id = ${userId} and read_at is null and expires_at > now()`);
  return row?.count ?? 0;
}

export function markRead(tx: Tx, userId: string, id: string) {
  return tx.one<NotificationRow>(sql`
    update notifications n set read_at = coalesce(n.read_at, now())
    where n.id = ${id} and n.user_id = ${userId}
    returning ${columns}`);
}

export function markAllRead(tx: Tx, userId: string): Promise<number> {
  return tx.execute(sql`update notifications set read_at = now() where user_id = ${userId} and read_at is null`);
}

export function deleteNotification(tx: Tx, userId: string, id: string): Promise<number> {
  return tx.execute(sql`delete from notifications where id = ${id} and user_id = ${userId}`);
}

/**
 * No RETURNING: the sender usually cannot read the recipient's row (RLS), and RETURNING would check
 * it against the SELECT policy. `on conflict do nothing` without a target, because naming the
 * (user_id, dedupe_key) target would also require reading the conflicting row.
 */
export function insertNotifications(tx: Tx, items: NewNotification[]): Promise<number> {
  if (items.length === 0) return Promise.resolve(0);
  const values = items.map(
    (n) => sql`(${n.userId}, ${n.type}, ${n.title}, ${n.body ?? null}, ${JSON.stringify(n.data ?? {})}::jsonb, ${n.dedupeKey ?? null})`,
  );
  return tx.execute(sql`
    insert into notifications (user_id, type, title, body, data, dedupe_key)
    values ${sql.join(values, sql`, `)}
    on conflict do nothing`);
}
