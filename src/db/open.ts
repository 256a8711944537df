// Opening the database for a server or a CLI command: lock the embedded directory, connect with
// bounded retries (a database that is down gives one clear line, not a hang), migrate when embedded.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import { embeddedDbDir, openDriver } from './client.js';
import { Database } from './database.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { migrate } from './migrate.js';

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

export interface OpenedDatabase {
  db: Database;
  /** Closes the database and releases the DATA_DIR lock. */
  close(): Promise<void>;
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message ?? ''}`.trim() : (e.message ?? String(err));
}

export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX' | 'DATABASE_CONNECT_ATTEMPTS' | 'dataDir'>,
  opts: { migrate?: boolean; retryDelayMs?: number } = {},
): Promise<OpenedDatabase> {
  let lock: DataDirLock | undefined;
  if (!config.DATABASE_URL) lock = lockDataDir(config.dataDir);
  try {
    const driver = await openDriver({
      databaseUrl: config.DATABASE_URL,
      pgliteDir: embeddedDbDir(config.dataDir),
      poolMax: config.DATABASE_POOL_MAX,
    });
    const db = new Database(driver);
    await connectWithRetry(db, config.DATABASE_CONNECT_ATTEMPTS, opts.retryDelayMs ?? 1000);
    if (opts.migrate ?? !config.DATABASE_URL) await migrate(driver);
    return {
      db,
      async close() {
        try {
          await db.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

async function connectWithRetry(db: Database, attempts: number, delayMs: number): Promise<void> {
  let last: unknown;
  for (let i = 1; i <= attempts; i++) {
    try {
      await db.ping();
      return;
    } catch (err) {
      last = err;
      if (i < attempts) await sleep(delayMs);
    }
  }
  await db.close().catch(() => undefined);
  throw new DatabaseUnavailableError(`database unreachable after ${attempts} attempts (${describe(last)})`);
}
