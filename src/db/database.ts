// Every query the API runs goes through withUser() or withSystem(): a transaction that first drops
// to a non-owner role (darezone_api / darezone_jobs) and records the caller's id in
// `darezone.user_id`. Row-level-security policies read that setting, so a missing check in a
// service cannot expose another user's rows. Roles and policies: migrations/0001 and 0003.
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Driver, RawRunner } from './client.js';

const dialect = new PgDialect();

export const API_ROLE = 'darezone_api';
export const JOBS_ROLE = 'darezone_jobs';

export class Tx {
  constructor(private readonly runner: RawRunner) {}

  async query<T = Record<string, unknown>>(q: SQL): Promise<T[]> {
    const { sql, params } = dialect.sqlToQuery(q);
    return (await this.runner.run(sql, params)).rows as T[];
  }

  async one<T = Record<string, unknown>>(q: SQL): Promise<T | undefined> {
    return (await this.query<T>(q))[0];
  }

  /** Runs a statement and returns the number of rows it touched. */
  async execute(q: SQL): Promise<number> {
    const { sql, params } = dialect.sqlToQuery(q);
    return (await this.runner.run(sql, params)).rowCount;
  }
}

export class Database {
  constructor(readonly driver: Driver) {}

  get engine() {
    return this.driver.engine;
  }

  /** An API request's work, as `userId` (null before sign-in: policies then match nothing private). */
  withUser<T>(userId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.inRole(API_ROLE, userId, fn);
  }

  /** Jobs, admin tasks and pre-authentication lookups (login by email, refresh-token lookup). */
  withSystem<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.inRole(JOBS_ROLE, null, fn);
  }

  private inRole<T>(role: string, userId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.driver.transaction(async (runner) => {
      // One round trip; both settings are transaction-local (is_local = true) and vanish on COMMIT.
      await runner.run(`select set_config('role', $1, true), set_config('darezone.user_id', $2, true)`, [
        role,
        userId ?? '',
      ]);
      return fn(new Tx(runner));
    });
  }

  async ping(): Promise<void> {
    await this.driver.run('select 1');
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

/** Postgres error codes the services turn into domain errors. */
export const PG = { UNIQUE_VIOLATION: '23505', FOREIGN_KEY_VIOLATION: '23503', CHECK_VIOLATION: '23514' } as const;

export function pgErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

export function pgConstraint(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'constraint' in err && typeof err.constraint === 'string') {
    return err.constraint;
  }
  return undefined;
}
