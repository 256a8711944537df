// SQL for media rows. Visibility is row-level security's job (app.can_read_media, migrations/0001
// and 0003): a row the caller may not read simply is not there.
import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';
import type { MediaKind } from './upload.js';

export interface MediaRow {
  id: string;
  owner_id: string;
  kind: MediaKind;
  content_type: string;
  size_bytes: number;
  width: number | null;
  height: number | null;
  storage_key: string;
  sha256: string;
  created_at: Date;
}

const COLUMNS = sql`id, owner_id, kind, content_type, size_bytes, width, height, storage_key, sha256, created_at`;

export async function usedBytes(tx: Tx, ownerId: string): Promise<number> {
  const row = await tx.one<{ used: number }>(sql`select coalesce(sum(size_bytes), 0)::bigint as used from media where owner_id = ${ownerId}`);
  return row?.used ?? 0;
}

/**
 * Serialises one user's uploads for the rest of the transaction, so "sum, check, insert" cannot
 * interleave between two requests (or two instances): the second waits for the first to commit and
 * then sees its row. A transaction-level advisory lock needs no UPDATE right on any table.
 */
export async function lockQuota(tx: Tx, ownerId: string): Promise<void> {
  await tx.query(sql`select pg_advisory_xact_lock(hashtextextended(${`darezone:media-quota:${ownerId}`}, 0))`);
}

export async function insert(tx: Tx, row: Omit<MediaRow, 'created_at'> & { created_at: Date }): Promise<MediaRow> {
  const inserted = await tx.one<MediaRow>(sql`
    insert into media (id, owner_id, kind, content_type, size_bytes, width, height, storage_key, sha256, created_at)
    values (${row.id}, ${row.owner_id}, ${row.kind}, ${row.content_type}, ${row.size_bytes}, ${row.width}, ${row.height},
            ${row.storage_key}, ${row.sha256}, ${row.created_at})
    returning ${COLUMNS}`);
  return inserted!;
}

/** The row if the caller may read it (RLS), else undefined. */
export async function findVisible(tx: Tx, id: string): Promise<MediaRow | undefined> {
  return tx.one<MediaRow>(sql`select ${COLUMNS} from media where id = ${id}`);
}

/** Check-ins or profiles pointing at the media (either makes it "in use"). */
export async function references(tx: Tx, id: string): Promise<{ checkins: number; avatars: number }> {
  const row = await tx.one<{ checkins: number; avatars: number }>(sql`
    select (select count(*) from check_ins where photo_media_id = ${id} or video_media_id = ${id})::int as checkins,
           (select count(*) from user_profiles where avatar_media_id = ${id})::int as avatars`);
  return row ?? { checkins: 0, avatars: 0 };
}

export async function deleteOwned(tx: Tx, id: string, ownerId: string): Promise<string | undefined> {
  const row = await tx.one<{ storage_key: string }>(sql`delete from media where id = ${id} and owner_id = ${ownerId} returning storage_key`);
  return row?.storage_key;
}

/** For the signed-URL route (no user): the signature is the authorisation, so this reads as darezone_jobs. */
export async function findForDelivery(tx: Tx, id: string): Promise<Pick<MediaRow, 'id' | 'kind' | 'content_type' | 'size_bytes' | 'storage_key' | 'sha256'> | undefined> {
  return tx.one(sql`select id, kind, content_type, size_bytes, storage_key, sha256 from media where id = ${id}`);
}
