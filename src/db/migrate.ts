// Migrations are plain numbered SQL files, append-only: an applied file whose checksum changed is an
// error, never silently re-run. All pending files run in one transaction as the connecting (owner)
// role, so a failure leaves the schema as it was. An advisory lock lets several instances start at once without racing each other.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Driver } from './client.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const LOCK_KEY = 734_201_117; // arbitrary, fixed: "darezone migrations"

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export async function migrate(driver: Driver, files = readMigrations()): Promise<string[]> {
  const applied: string[] = [];
  await driver.transaction(async (tx) => {
    if (driver.engine === 'postgres') await tx.run('select pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`create table if not exists schema_migrations (
      version integer primary key, name text not null, checksum text not null,
      applied_at timestamptz not null default now())`);
    const { rows } = await tx.run('select version, name, checksum from schema_migrations order by version');
    const done = new Map(rows.map((r) => [Number(r.version), r]));
    for (const file of files) {
      const prior = done.get(file.version);
      if (prior) {
        if (prior.checksum !== file.checksum) {
          throw new MigrationError(`migration ${file.name} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      await tx.exec(file.sql);
      await tx.run('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [
        file.version,
        file.name,
        file.checksum,
      ]);
      applied.push(file.name);
    }
  });
  return applied;
}

/** For readiness: are all migration files on disk applied? */
export async function pendingMigrations(driver: Driver, files = readMigrations()): Promise<string[]> {
  const { rows } = await driver.run(
    `select version from schema_migrations`,
  ).catch(() => ({ rows: [] as Record<string, unknown>[] }));
  const done = new Set(rows.map((r) => Number(r.version)));
  return files.filter((f) => !done.has(f.version)).map((f) => f.name);
}
