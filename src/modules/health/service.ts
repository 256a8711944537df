// Readiness (§5.3): database, migrations, Redis (when REDIS_URL is set), storage, not draining;
// each check is time-bounded so a hung dependency turns into a named failure
// instead of a hung probe. Failure details are generic (no connection strings or hostnames).
import type { FastifyInstance } from 'fastify';
import { pendingMigrations, readMigrations } from '../../db/migrate.js';
import { checkRedis } from './redis-check.js';

export type CheckFn = () => Promise<void>;

/** A failure whose message is safe to show on the public probe (no hosts, no connection strings). */
export class CheckFailed extends Error {}

// Checks say pass/fail and only the top level says ok: an uptime monitor's keyword check for
// "status":"ok" must not match a failing body through a passing sub-check.
export interface CheckResult {
  status: 'pass' | 'fail';
  duration_ms: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 2000;
const migrationFiles = readMigrations();

async function timed(fn: CheckFn): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new CheckFailed('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'pass', duration_ms: Math.round(performance.now() - started) };
  } catch (err) {
    const message = err instanceof CheckFailed ? err.message : 'unavailable';
    return { status: 'fail', duration_ms: Math.round(performance.now() - started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

export function readinessChecks(app: FastifyInstance): Record<string, CheckFn> {
  return {
    database: () => app.db.ping(),
    migrations: async () => {
      const pending = await pendingMigrations(app.db.driver, migrationFiles);
      if (pending.length > 0) throw new CheckFailed(`${pending.length} pending`);
    },
    ...(app.config.REDIS_URL ? { redis: () => checkRedis(app, app.config.REDIS_URL!) } : {}),
    storage: () => app.storage.checkWritable(), // writes and deletes a small temporary object
    shutdown: async () => {
      if (app.draining) throw new CheckFailed('draining');
    },
  };
}

export async function readiness(app: FastifyInstance) {
  const entries = Object.entries(readinessChecks(app));
  const results = await Promise.all(entries.map(async ([name, fn]) => [name, await timed(fn)] as const));
  const checks = Object.fromEntries(results);
  const failing = results.filter(([, r]) => r.status === 'fail').map(([name]) => name);
  return { status: failing.length === 0 ? ('ok' as const) : ('fail' as const), checks, failing };
}
