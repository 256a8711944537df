// Entry points for the job definitions, the admin API and the CLI. Jobs receive the Database only:
// the admin routes bind the server's config to its database (as the media plugin does with its
// store), so scheduled backups use exactly the server's settings; elsewhere the environment's.
import { loadConfig, type Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../plugins/core.js';
import { storageFor } from '../storage/index.js';
import { backupSettings, type BackupDeps } from './service.js';

export * from './service.js';

const bound = new WeakMap<object, Config>();

export function bindBackupConfig(db: object, config: Config): void {
  bound.set(db, config);
}

export function backupDepsFor(db: Database, clock: Clock, progress?: (m: string) => void): BackupDeps {
  const config = bound.get(db) ?? loadConfig();
  return { db, clock, storage: storageFor(db), settings: backupSettings(config), progress };
}
