// Two engines behind one small interface. Drizzle composes the SQL (its `sql` template makes every
// value a bind parameter); the driver layer is ours so that PGlite and PostgreSQL hand back identical
// JS values (DATE as 'YYYY-MM-DD', counts as numbers, timestamptz as Date) and so that every API
// transaction can carry the caller's identity for row-level security (see ./context.ts).
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';

export interface RawResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** One connection-like handle: a pooled client inside a transaction, or PGlite's transaction. */
export interface RawRunner {
  run(text: string, params?: unknown[]): Promise<RawResult>;
  exec(text: string): Promise<void>;
}

export interface Driver {
  /** Embedded only: a tarball of the whole database. */
  dump?(): Promise<Blob>;
  readonly engine: 'pglite' | 'postgres';
  transaction<T>(fn: (runner: RawRunner) => Promise<T>): Promise<T>;
  run(text: string, params?: unknown[]): Promise<RawResult>;
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

const identity = (v: string) => v;
const toNumber = (v: string) => Number(v);

const PG_DATE = 1082;
const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const PG_INTERVAL = 1186;
const PG_DATE_ARRAY = 1182;
const PG_INT8_ARRAY = 1016;
const PG_TEXT_ARRAY = 1009;
const PG_INT4_ARRAY = 1007;

// node-pg's own parsers, looked up by any oid (its typings only list the scalar ones).
const builtinParser = pg.types.getTypeParser as (oid: number, format: string) => (v: string) => unknown;

function pgTypeParsers(): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) => {
      // PGlite applies the element parsers below to arrays too, and leaves intervals as text;
      // node-pg would turn date[] into Dates, int8[] into strings and intervals into objects.
      if (oid === PG_DATE || oid === PG_INTERVAL) return identity;
      if (oid === PG_INT8 || oid === PG_NUMERIC) return toNumber;
      if (oid === PG_DATE_ARRAY) return builtinParser(PG_TEXT_ARRAY, 'text');
      if (oid === PG_INT8_ARRAY) return builtinParser(PG_INT4_ARRAY, 'text');
      return builtinParser(oid, format ?? 'text');
    }) as pg.CustomTypesConfig['getTypeParser'],
  };
}

class PostgresDriver implements Driver {
  readonly engine = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(url: string, max: number) {
    this.pool = new pg.Pool({
      connectionString: url,
      max,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
      types: pgTypeParsers(),
      application_name: 'darezone-api',
    });
    // An idle client losing its connection must not crash the process; the next checkout reconnects.
    this.pool.on('error', () => undefined);
  }

  async run(text: string, params: unknown[] = []): Promise<RawResult> {
    const r = await this.pool.query(text, params);
    return { rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 };
  }

  async transaction<T>(fn: (runner: RawRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const runner: RawRunner = {
      run: async (text, params = []) => {
        const r = await client.query(text, params);
        return { rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 };
      },
      exec: async (text) => {
        await client.query(text);
      },
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(runner);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  poolStats() {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

// PGlite counts only INSERT/UPDATE/DELETE rows (affectedRows is 0 for a SELECT); PostgreSQL's
// rowCount is the command tag's count, which for a SELECT (or a CTE ending in one) is its rows.
function pgliteResult(r: { rows: unknown[]; affectedRows?: number }): RawResult {
  return { rows: r.rows as Record<string, unknown>[], rowCount: r.affectedRows || r.rows.length };
}

class PgliteDriver implements Driver {
  readonly engine = 'pglite' as const;
  private busy = 0;

  constructor(private readonly db: PGlite) {}

  static async open(dataDir: string | null, loadDataDir?: Blob): Promise<PgliteDriver> {
    const parsers = { [pgliteTypes.DATE]: identity, [pgliteTypes.INT8]: toNumber, [pgliteTypes.NUMERIC]: toNumber };
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...(loadDataDir ? { loadDataDir } : {}), parsers });
    return new PgliteDriver(db);
  }

  /** A tarball of the whole database (embedded backups, test templates). */
  async dump(): Promise<Blob> {
    return this.db.dumpDataDir('none');
  }

  async run(text: string, params: unknown[] = []): Promise<RawResult> {
    return pgliteResult(await this.db.query(text, params));
  }

  // PGlite is one connection: its transaction() queues callers, which is exactly a pool of size 1.
  async transaction<T>(fn: (runner: RawRunner) => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await this.db.transaction(async (tx) =>
        fn({
          run: async (text, params = []) => pgliteResult(await tx.query(text, params)),
          exec: async (text) => {
            await tx.exec(text);
          },
        }),
      );
    } finally {
      this.busy--;
    }
  }

  poolStats() {
    return { total: 1, idle: this.busy === 0 ? 1 : 0, waiting: Math.max(0, this.busy - 1) };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export interface DriverOptions {
  databaseUrl?: string | undefined;
  /** Embedded data directory; null = in-memory PGlite (tests). */
  pgliteDir?: string | null;
  /** Start the embedded database from a dump (test templates, restores). */
  pgliteLoad?: Blob;
  poolMax?: number;
}

export async function openDriver(opts: DriverOptions): Promise<Driver> {
  if (opts.databaseUrl) return new PostgresDriver(opts.databaseUrl, opts.poolMax ?? 10);
  return PgliteDriver.open(opts.pgliteDir ?? null, opts.pgliteLoad);
}

export const embeddedDbDir = (dataDir: string) => path.join(dataDir, 'db');
