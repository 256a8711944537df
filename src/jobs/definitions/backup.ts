// backup.create (daily, then prune), backup.prune, backup.verify (weekly restore drill). The work
// itself is src/backup; these only schedule it. Generous time-outs, one retry.
import { sql } from 'drizzle-orm';
import { BackupBusyError, BackupError, backupDepsFor, createBackup, pruneBackups, verifyBackup } from '../../backup/index.js';
import type { JobDefinition } from '../types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const backupCreate: JobDefinition = {
  name: 'backup.create',
  description: 'Back up the database and media (BACKUP_DIR, S3 when configured), then apply retention.',
  schedule: '0 2 * * *',
  timeoutMs: 2 * HOUR,
  catchUpMs: 12 * HOUR,
  retries: { attempts: 2, delayMs: 5 * MINUTE },
  async run(ctx) {
    // Idempotent per slot: a backup already completed at or after this slot is this slot's backup.
    const done = await ctx.withSystem((tx) =>
      tx.one<{ id: string }>(sql`select id from backups where status = 'completed' and started_at >= ${ctx.scheduledFor} order by id desc limit 1`),
    );
    if (done) return { result: { id: done.id, already: true } };
    const deps = backupDepsFor(ctx.db, ctx.clock);
    const m = await createBackup(deps);
    const pruned = await pruneBackups(deps);
    return { result: { id: m.id, stored_bytes: m.sizes.stored_bytes, media: m.media.length, pruned: pruned.deleted.length } };
  },
};

export const backupPrune: JobDefinition = {
  name: 'backup.prune',
  description: 'Delete backups older than BACKUP_RETENTION_DAYS (never the newest verified; nothing when the newest failed).',
  schedule: '30 2 * * *',
  timeoutMs: HOUR,
  catchUpMs: 24 * HOUR,
  retries: { attempts: 2, delayMs: 5 * MINUTE },
  async run(ctx) {
    let r;
    try {
      r = await pruneBackups(backupDepsFor(ctx.db, ctx.clock));
    } catch (err) {
      // A create, verify or restore holds BACKUP_DIR (e.g. the catch-up runs at start): a create
      // prunes when it finishes, and tomorrow's slot prunes anyway, so this slot has nothing to add.
      if (err instanceof BackupBusyError) return { status: 'skipped', result: { reason: err.message } };
      throw err;
    }
    return { result: { deleted: r.deleted.length, kept: r.kept, blobs_deleted: r.blobsDeleted, ...(r.reason ? { reason: r.reason } : {}) } };
  },
};

export const backupVerify: JobDefinition = {
  name: 'backup.verify',
  description: 'Restore drill: restore the newest unverified backup into a scratch database and compare it with its manifest.',
  schedule: '0 4 * * 0',
  timeoutMs: 2 * HOUR,
  catchUpMs: 3 * 24 * HOUR,
  retries: { attempts: 2, delayMs: 5 * MINUTE },
  async run(ctx) {
    let r;
    try {
      r = await verifyBackup(backupDepsFor(ctx.db, ctx.clock), 'unverified');
    } catch (err) {
      // Nothing to verify is not a failure (every completed backup has been drilled).
      if (err instanceof BackupError && /no unverified/.test(err.message)) return { result: { id: null, reason: err.message } };
      throw err;
    }
    if (!r.ok) throw new Error(`backup ${r.id} failed verification: ${r.problems.join('; ').slice(0, 500)}`);
    return { result: { id: r.id, duration_ms: r.durationMs } };
  },
};
