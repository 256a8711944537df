// media.orphans: uploads nobody uses, and stored objects no row describes.
//  1. Rows older than 24 h that no check-in and no profile (avatar) references are deleted, then
//     their stored objects. An upload is meant to be attached right away (the app uploads, then
//     checks in or sets the avatar), so 24 h is a generous grace period.
//  2. Stored objects older than 24 h without a row are deleted: what a crash between "object
//     stored" and "row inserted" leaves, or a delete whose object removal failed.
// Idempotent: a second run finds nothing. Rows go first (in one transaction), objects after the
// commit; a failure between the two leaves objects without rows, which step 2 removes next time.
import { sql } from 'drizzle-orm';
import { storageFor } from '../../storage/index.js';
import type { JobDefinition } from '../types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const GRACE_MS = 24 * HOUR;
const BATCH = 500;
// Only objects the media module could have written are ever swept: a bucket shared with anything
// else (backups under another prefix, say) is left alone.
const MEDIA_KEY = /^[0-9a-f-]{36}\/[0-9a-f-]{36}\.(jpg|webp|mp4|mov)$/;

export const mediaOrphans: JobDefinition = {
  name: 'media.orphans',
  description: 'Delete media unused for 24 h (no check-in, no avatar) and stored objects without a row.',
  schedule: '40 4 * * *',
  timeoutMs: 30 * MINUTE,
  catchUpMs: 24 * HOUR,
  retries: { attempts: 2, delayMs: 30_000 },
  async run(ctx) {
    const storage = storageFor(ctx.db);
    const cutoff = new Date(ctx.clock.now().getTime() - GRACE_MS);

    const orphanRows = await ctx.withSystem(async (tx) => {
      // Lock the candidates first: a check-in being inserted right now holds a key-share lock on
      // its media row (the foreign key), so this waits for it, and the DELETE below (a new
      // statement, a new snapshot) then sees that check-in and keeps the row.
      const candidates = await tx.query<{ id: string }>(sql`
        select m.id from media m
        where m.created_at < ${cutoff}
          and not exists (select 1 from check_ins c where c.photo_media_id = m.id or c.video_media_id = m.id)
          and not exists (select 1 from user_profiles p where p.avatar_media_id = m.id)
        for update of m`);
      if (candidates.length === 0) return [];
      return tx.query<{ storage_key: string }>(sql`
        delete from media m
        where m.id = any(${sql.param(candidates.map((c) => c.id))}::uuid[])
          and not exists (select 1 from check_ins c where c.photo_media_id = m.id or c.video_media_id = m.id)
          and not exists (select 1 from user_profiles p where p.avatar_media_id = m.id)
        returning m.storage_key`);
    });
    let objectsDeleted = 0;
    for (const row of orphanRows) {
      ctx.signal.throwIfAborted();
      await storage.delete(row.storage_key);
      objectsDeleted++;
    }

    // Objects without a row. Checked in batches against the table; only objects older than the
    // grace period, so an upload between "stored" and "row inserted" is never touched.
    let strays = 0;
    let batch: string[] = [];
    const sweep = async () => {
      const known = await ctx.withSystem((tx) =>
        tx.query<{ storage_key: string }>(sql`select storage_key from media where storage_key = any(${sql.param(batch)}::text[])`),
      );
      const keep = new Set(known.map((r) => r.storage_key));
      for (const key of batch) {
        if (keep.has(key)) continue;
        await storage.delete(key);
        strays++;
      }
      batch = [];
    };
    for await (const object of storage.list()) {
      ctx.signal.throwIfAborted();
      if (!MEDIA_KEY.test(object.key) || object.lastModified.getTime() >= cutoff.getTime()) continue;
      batch.push(object.key);
      if (batch.length >= BATCH) await sweep();
    }
    if (batch.length > 0) await sweep();

    return { result: { rows_deleted: orphanRows.length, objects_deleted: objectsDeleted, stray_objects_deleted: strays } };
  },
};
