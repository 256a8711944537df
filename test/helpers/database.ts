// A fresh, migrated database per test file: in-memory PGlite by default, or — when
// TEST_DATABASE_URL is set (npm run test:services) — a new PostgreSQL database created for this
// file and dropped afterwards. Tests never share data.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { openDriver } from '../../src/db/client.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';

export interface TestDatabase {
  db: Database;
  /** Connection URL of this file's database (PostgreSQL mode only). */
  url?: string;
  close(): Promise<void>;
}

export const usingPostgres = () => Boolean(process.env.TEST_DATABASE_URL);

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createPostgresDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `dz_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!usingPostgres()) {
    const template = inject('pgliteTemplate');
    const pgliteLoad = template ? new Blob([readFileSync(template)]) : undefined;
    const db = new Database(await openDriver({ pgliteDir: null, pgliteLoad }));
    await migrate(db.driver); // a no-op on the template; keeps the helper correct without it
    return { db, close: () => db.close() };
  }
  const created = await createPostgresDatabase();
  const db = new Database(await openDriver({ databaseUrl: created.url, poolMax: 10 }));
  await migrate(db.driver);
  return {
    db,
    url: created.url,
    async close() {
      await db.close();
      await created.drop();
    },
  };
}
