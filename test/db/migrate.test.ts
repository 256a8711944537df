// The migrator on an empty database: from zero to current, idempotent, append-only, atomic, and safe
// when several instances start at once. Runs on fresh in-memory PGlite (no template) under
// `npm test` and on brand-new PostgreSQL databases under `npm run test:services`.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDriver, type Driver } from '../../src/db/client.js';
import { MIGRATIONS_DIR, migrate, MigrationError, pendingMigrations, readMigrations, type MigrationFile } from '../../src/db/migrate.js';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.js';

const engine = usingPostgres() ? 'PostgreSQL' : 'PGlite';
const FILES = readMigrations();
const NAMES = FILES.map((f) => f.name);

interface Fresh {
  driver: Driver;
  url?: string;
  close(): Promise<void>;
}
const opened: Fresh[] = [];
afterAll(async () => {
  for (const f of opened.splice(0)) await f.close();
});

/** An empty database: never migrated, no template. */
async function freshDatabase(): Promise<Fresh> {
  let fresh: Fresh;
  if (!usingPostgres()) {
    const driver = await openDriver({ pgliteDir: null });
    fresh = { driver, close: () => driver.close() };
  } else {
    const created = await createPostgresDatabase();
    const driver = await openDriver({ databaseUrl: created.url, poolMax: 4 });
    fresh = {
      driver,
      url: created.url,
      async close() {
        await driver.close();
        await created.drop();
      },
    };
  }
  opened.push(fresh);
  return fresh;
}

const file = (version: number, name: string, sql: string): MigrationFile => ({
  version,
  name: `${String(version).padStart(4, '0')}_${name}`,
  sql,
  checksum: createHash('sha256').update(sql).digest('hex'),
});

async function tablesIn(driver: Driver, schema = 'public'): Promise<string[]> {
  const { rows } = await driver.run(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'p') order by 1`,
    [schema],
  );
  return rows.map((r) => r.relname as string);
}

async function recorded(driver: Driver) {
  const { rows } = await driver.run('select version, name, checksum, applied_at from schema_migrations order by version');
  return rows;
}

describe('the migrations directory', () => {
  it('every .sql file is picked up (a misnamed file would silently never run) and versions are unique and ordered', () => {
    const sqlFiles = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
    expect(FILES.map((f) => `${f.name}.sql`)).toEqual(sqlFiles);
    const versions = FILES.map((f) => f.version);
    expect(new Set(versions).size).toBe(versions.length);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(FILES.length).toBeGreaterThanOrEqual(4);
  });
});

describe(`migrate() from an empty database (${engine})`, () => {
  let db: Fresh;
  beforeAll(async () => {
    db = await freshDatabase();
  });

  it('applies every file, records each in schema_migrations, and running again applies nothing', async () => {
    expect(await tablesIn(db.driver)).toEqual([]);
    expect(await pendingMigrations(db.driver)).toEqual(NAMES); // no schema_migrations yet

    expect(await migrate(db.driver)).toEqual(NAMES);

    const rows = await recorded(db.driver);
    expect(rows.map((r) => ({ version: r.version, name: r.name, checksum: r.checksum }))).toEqual(
      FILES.map((f) => ({ version: f.version, name: f.name, checksum: f.checksum })),
    );
    for (const r of rows) expect(r.applied_at).toBeInstanceOf(Date);
    expect(await tablesIn(db.driver)).toEqual(
      expect.arrayContaining(['users', 'user_profiles', 'challenges', 'check_ins', 'organizations', 'schema_migrations']),
    );
    const habits = await db.driver.run('select count(*) as n from habits where is_system');
    expect(habits.rows[0]!.n).toBe(10);
    expect(await pendingMigrations(db.driver)).toEqual([]);

    expect(await migrate(db.driver)).toEqual([]);
    expect(await recorded(db.driver)).toEqual(rows); // nothing re-run, nothing re-recorded
  });

  it('refuses an applied migration whose content changed, and applies nothing else in that run', async () => {
    const before = await recorded(db.driver);
    const changed = FILES.map((f) => (f.version === 2 ? file(2, 'schema', `${f.sql}\n-- an innocent-looking edit\n`) : f));
    const withNew = [...changed, file(9000, 'would_be_new', 'create table would_be_new (id int)')];

    const err = await migrate(db.driver, withNew).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toContain('0002_schema was changed after it was applied');

    expect(await recorded(db.driver)).toEqual(before);
    expect(await tablesIn(db.driver)).not.toContain('would_be_new');
  });

  it('a failing new migration rolls back the good new files before it too', async () => {
    const before = await recorded(db.driver);
    const good = file(9000, 'good_new', `create table good_new (id int); insert into good_new values (1);`);
    const bad = file(9001, 'broken', `create table partial_left_behind (id int); select 1 / 0;`);

    const err = await migrate(db.driver, [...FILES, good, bad]).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('22012');

    const tables = await tablesIn(db.driver);
    expect(tables).not.toContain('good_new');
    expect(tables).not.toContain('partial_left_behind');
    expect(await recorded(db.driver)).toEqual(before);
    expect(await pendingMigrations(db.driver, [...FILES, good, bad])).toEqual([good.name, bad.name]);

    // Fixed and re-run: only the new file is applied.
    expect(await migrate(db.driver, [...FILES, good])).toEqual([good.name]);
    expect(await tablesIn(db.driver)).toContain('good_new');
  });
});

describe(`a failed first migration and pendingMigrations (${engine})`, () => {
  let db: Fresh;
  beforeAll(async () => {
    db = await freshDatabase();
  });

  it('a failure in the last file leaves an empty database: no table, not even schema_migrations', async () => {
    const bad = file(9001, 'broken', `create table partial_left_behind (id int); insert into nowhere values (1);`);
    const err = await migrate(db.driver, [...FILES, bad]).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('42P01'); // undefined_table
    expect(await tablesIn(db.driver)).toEqual([]);
    const app = await db.driver.run(`select count(*) as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'app'`);
    expect(app.rows[0]!.n).toBe(0);
    expect(await pendingMigrations(db.driver)).toEqual(NAMES);
  });

  it('pendingMigrations reports exactly the files not applied yet', async () => {
    const firstTwo = FILES.slice(0, 2);
    expect(await migrate(db.driver, firstTwo)).toEqual(firstTwo.map((f) => f.name));
    expect(await pendingMigrations(db.driver)).toEqual(NAMES.slice(2));
    expect(await migrate(db.driver)).toEqual(NAMES.slice(2));
    expect(await pendingMigrations(db.driver)).toEqual([]);
    expect(await pendingMigrations(db.driver, [...FILES, file(9000, 'later', 'select 1')])).toEqual(['9000_later']);
  });
});

// One engine-specific test per engine, declared only where it applies (no skipped tests).
describe(`concurrent start-up (${engine})`, () => {
  if (usingPostgres()) it('3 instances migrating one fresh PostgreSQL database at once all succeed and apply each file once', async () => {
    const db = await freshDatabase();
    const instances = await Promise.all([1, 2, 3].map(() => openDriver({ databaseUrl: db.url, poolMax: 2 })));
    try {
      const results = await Promise.all(instances.map((d) => migrate(d)));
      expect(results.flat()).toEqual(NAMES); // one instance applied everything, the others nothing
      expect(results.filter((r) => r.length === 0)).toHaveLength(2);
      expect((await recorded(db.driver)).map((r) => r.name)).toEqual(NAMES);
    } finally {
      await Promise.all(instances.map((d) => d.close()));
    }
  });

  if (!usingPostgres()) it('3 concurrent migrate() calls on one embedded database queue and apply each file once', async () => {
    const db = await freshDatabase();
    const results = await Promise.all([1, 2, 3].map(() => migrate(db.driver)));
    expect(results.flat()).toEqual(NAMES);
    expect((await recorded(db.driver)).map((r) => r.name)).toEqual(NAMES);
  });
});
