// Builds the real app on a fresh database for one test file, with a controllable clock, and gives
// factories for users and tokens. Usage:
//   const t = await createTestApp(); afterAll(() => t.close());
//   const alice = await t.users.create();  await t.app.inject({ ..., headers: alice.auth });
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { loadKeySet, signAccessToken, type KeySet } from '../../src/plugins/auth-keys.js';
import type { Database } from '../../src/db/database.js';
import { TestClock } from './clock.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_PASSWORD = 'Sturdy-Test-Password-42';
// argon2id(TEST_PASSWORD), precomputed so creating a user in a test costs no hashing time.
export const TEST_PASSWORD_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$7kKb/yOwPNSMuWdBglBgiQ$KxrQtHCzv9jgDF7SwcivTjPqPlgD43PNah2Ktnf5sTg';
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: 'user' | 'admin';
  token: string;
  auth: { authorization: string };
}

export interface TestContext {
  app: FastifyInstance;
  db: Database;
  clock: TestClock;
  config: Config;
  keys: KeySet;
  database: TestDatabase;
  users: {
    create(overrides?: Partial<{ email: string; displayName: string; role: 'user' | 'admin'; timezone: string }>): Promise<TestUser>;
    token(userId: string, role?: 'user' | 'admin'): Promise<string>;
  };
  close(): Promise<void>;
}

// One scratch directory per test process for anything a test app writes to disk by default
// (backups, media, dev keys), removed when the process exits.
const scratch = mkdtempSync(path.join(tmpdir(), 'dz-test-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    APP_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    DATA_DIR: scratch,
    JOBS_ENABLED: 'false', // tests drive the scheduler by hand (scheduler.tick) with the test clock
    RATE_LIMIT_ENABLED: 'false', // one client (127.0.0.1) per file; test/plugins/rate-limit*.test.ts turn it on
    ...env,
  });
}

export async function createTestApp(
  opts: {
    env?: Record<string, string>;
    clock?: TestClock;
    fastify?: Partial<FastifyServerOptions>;
    extend?: (app: FastifyInstance) => void | Promise<void>;
  } = {},
): Promise<TestContext> {
  const database = await createTestDatabase();
  const config = testConfig(opts.env);
  const clock = opts.clock ?? new TestClock();
  const keys = loadKeySet(config);
  const app = await buildApp({ config, db: database.db, clock, keys, extend: opts.extend }, opts.fastify);
  const token = (userId: string, role: 'user' | 'admin' = 'user') =>
    signAccessToken(keys, { sub: userId, role, sid: randomUUID() }, config.ACCESS_TOKEN_TTL_SECONDS, clock.now());
  let counter = 0;
  return {
    app,
    db: database.db,
    clock,
    config,
    keys,
    database,
    users: {
      token,
      async create(overrides = {}) {
        const id = randomUUID();
        counter++;
        const email = overrides.email ?? `user${counter}-${id.slice(0, 8)}@example.test`;
        const role = overrides.role ?? 'user';
        await database.db.withSystem(async (tx) => {
          await tx.execute(sql`insert into users (id, email, password_hash, role) values (${id}, ${email}, ${TEST_PASSWORD_HASH}, ${role})`);
          await tx.execute(sql`insert into user_profiles (user_id, display_name, timezone)
            values (${id}, ${overrides.displayName ?? `User ${counter}`}, ${overrides.timezone ?? 'UTC'})`);
        });
        const t = await token(id, role);
        return { id, email, password: TEST_PASSWORD, role, token: t, auth: { authorization: `Bearer ${t}` } };
      },
    },
    async close() {
      await app.close();
      await database.close();
    },
  };
}
