// `darezone backup create|list|verify [ID|latest]|restore ID|latest [--force]|prune`.
// Embedded mode needs DATA_DIR to itself (the lock): while the server runs, back up through the
// admin API (POST /api/v1/admin/backups); restore needs the server stopped in every mode.
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { DataDirLockedError } from '../db/data-dir-lock.js';
import { openDatabase } from '../db/open.js';
import {
  backupSettings,
  createBackup,
  listBackups,
  pruneBackups,
  restoreBackup,
  verifyBackup,
  type BackupDeps,
} from '../backup/index.js';
import { systemClock } from '../plugins/core.js';
import { createStorage } from '../storage/index.js';

const progress = process.stderr.isTTY ? (m: string) => process.stderr.write(`${m}\n`) : undefined;

function lockedMessage(err: DataDirLockedError, restore: boolean): Error {
  return new Error(
    restore
      ? `DATA_DIR ${err.dir} is in use by a running DareZone server (pid ${err.pid}): stop it before restoring`
      : `DATA_DIR ${err.dir} is in use by a running DareZone server (pid ${err.pid}): use POST /api/v1/admin/backups (or the admin jobs API) while it runs`,
    { cause: err },
  );
}

async function withDeps<T>(fn: (deps: BackupDeps, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  let opened;
  try {
    opened = await openDatabase(config);
  } catch (err) {
    if (err instanceof DataDirLockedError) throw lockedMessage(err, false);
    throw err;
  }
  const storage = createStorage(config);
  try {
    return await fn({ db: opened.db, storage, settings: backupSettings(config), clock: systemClock, progress }, config);
  } finally {
    await storage.close();
    await opened.close();
  }
}

const mb = (n: number | null) => (n === null ? '-' : `${(n / 1048576).toFixed(1)}MB`);

export function registerBackupCommand(program: Command): void {
  const backup = program.command('backup').description('backups of the database and media (docs/BACKUPS.md)');
  backup
    .command('create')
    .description('back up now; prints the new backup id')
    .action(async () => {
      await withDeps(async (deps) => {
        const m = await createBackup(deps);
        process.stdout.write(`${m.id}\n`);
      });
    });
  backup
    .command('list')
    .description('one backup a line, newest first: id, status, created_at, size, verification')
    .action(async () => {
      await withDeps(async (deps) => {
        for (const b of await listBackups(deps)) {
          const verified = b.verify_status ? `verify ${b.verify_status} ${b.verified_at}` : 'unverified';
          process.stdout.write(`${b.id}\t${b.status}\t${b.created_at}\t${mb(b.size_bytes)}\t${verified}${b.local ? '' : '\tnot local'}\n`);
        }
      });
    });
  backup
    .command('verify [id]')
    .description('restore drill: restore into a scratch database, compare with the manifest, re-hash media (default: latest)')
    .action(async (id: string | undefined) => {
      await withDeps(async (deps) => {
        const r = await verifyBackup(deps, id ?? 'latest');
        process.stdout.write(`${r.id}\t${r.ok ? 'passed' : 'failed'}\t${r.durationMs} ms\n`);
        if (!r.ok) throw new Error(`backup ${r.id} failed verification: ${r.problems.join('; ')}`);
      });
    });
  backup
    .command('restore <id>')
    .description('restore a backup (ID or "latest"); refuses a non-empty target unless --force')
    .option('--force', 'replace a non-empty database and media store')
    .action(async (id: string, opts: { force?: boolean }) => {
      const config = loadConfig();
      const storage = createStorage(config);
      try {
        const m = await restoreBackup({ settings: backupSettings(config), storage, clock: systemClock, progress }, id, { force: Boolean(opts.force) });
        process.stdout.write(`restored ${m.id}\n`);
      } catch (err) {
        if (err instanceof DataDirLockedError) throw lockedMessage(err, true);
        throw err;
      } finally {
        await storage.close();
      }
    });
  backup
    .command('prune')
    .description('apply retention (BACKUP_RETENTION_DAYS; never the newest verified backup)')
    .action(async () => {
      await withDeps(async (deps) => {
        const r = await pruneBackups(deps);
        process.stdout.write(`deleted ${r.deleted.length}, kept ${r.kept}, media blobs deleted ${r.blobsDeleted}${r.reason ? ` (${r.reason})` : ''}\n`);
      });
    });
}
