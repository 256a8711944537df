// Alert history for the admin API (the evaluation's SQL is in src/alerts/repository.ts).
import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';
import type { AlertRow } from '../../alerts/repository.js';

export function listAlerts(tx: Tx, opts: { status?: string; rule?: string; limit: number; after?: [string, string] }): Promise<AlertRow[]> {
  const status = opts.status ? sql`and status = ${opts.status}` : sql``;
  const rule = opts.rule ? sql`and rule = ${opts.rule}` : sql``;
  const cursor = opts.after ? sql`and (fired_at, id) < (${opts.after[0]}::timestamptz, ${opts.after[1]}::uuid)` : sql``;
  return tx.query<AlertRow>(sql`
    select * from alerts where true ${status} ${rule} ${cursor}
    order by fired_at desc, id desc limit ${opts.limit + 1}`);
}
