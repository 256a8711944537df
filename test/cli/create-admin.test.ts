// `darezone create-admin` as a real process on a temporary DATA_DIR, the password piped on stdin;
// the result is checked by opening the database afterwards and signing in through the API. Slow by
// nature (each run boots the embedded database), so the cases share one DATA_DIR and run in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.js';
import { openDatabase } from '../../src/db/open.js';
import { TEST_PASSWORD, TEST_PASSWORD_HASH, testConfig } from '../helpers/app.js';
import { spawnNode } from '../helpers/process.js';

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'dz-create-admin-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const createAdmin = async (args: string[], stdin?: string) => {
  const p = spawnNode(['src/cli/index.ts', 'create-admin', ...args], { DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, stdin === undefined ? {} : { stdin });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
};

/** Opens DATA_DIR (the CLI has exited, so the lock is free), runs `fn` on an app over it, closes. */
async function withApp<T>(fn: (app: Awaited<ReturnType<typeof buildApp>>, db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>) {
  const config = testConfig({ DATA_DIR: dataDir });
  const opened = await openDatabase(config);
  const app = await buildApp({ config, db: opened.db });
  try {
    return await fn(app, opened.db);
  } finally {
    await app.close();
    await opened.close();
  }
}

const roleOf = (db: Awaited<ReturnType<typeof openDatabase>>['db'], email: string) =>
  db.withSystem((tx) => tx.one<{ role: string }>(sql`select role from users where lower(email) = ${email}`));

describe('darezone create-admin', () => {
  it('creates an admin from a piped password; the admin can sign in', async () => {
    const password = 'Operator-Chosen-Passphrase-7';
    const res = await createAdmin(['--email', ' Ops@Example.test '], `${password}\nignored second line\n`);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^created admin ops@example\.test \([0-9a-f-]{36}\)\n$/);
    expect(res.stdout).not.toContain(password);

    await withApp(async (app, db) => {
      expect(await roleOf(db, 'ops@example.test')).toEqual({ role: 'admin' });
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ops@example.test', password } });
      expect(login.statusCode).toBe(200);
      expect(login.json().user).toMatchObject({ email: 'ops@example.test', role: 'admin', display_name: 'ops' });
    });
  }, 120_000);

  it('promotes an existing account and leaves its password alone', async () => {
    await withApp(async (_app, db) => {
      await db.withSystem(async (tx) => {
        await tx.execute(sql`insert into users (id, email, password_hash) values ('6f1d3c1e-7c4f-4d55-9c1a-0d6f8a3b2c10', 'member@example.test', ${TEST_PASSWORD_HASH})`);
        await tx.execute(sql`insert into user_profiles (user_id, display_name) values ('6f1d3c1e-7c4f-4d55-9c1a-0d6f8a3b2c10', 'Member')`);
      });
    });
    const res = await createAdmin(['--email', 'MEMBER@example.test']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('promoted member@example.test (6f1d3c1e-7c4f-4d55-9c1a-0d6f8a3b2c10) to admin; password unchanged\n');
    await withApp(async (app, db) => {
      expect(await roleOf(db, 'member@example.test')).toEqual({ role: 'admin' });
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'member@example.test', password: TEST_PASSWORD } });
      expect(login.statusCode).toBe(200);
      expect(login.json().user.role).toBe('admin');
    });
  }, 120_000);

  it('refuses a common password, a missing password and an invalid email: exit 1, one line, nothing created', async () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [['--email', 'weak@example.test'], 'password123\n', /^darezone: password is too common/],
      [['--email', 'nopass@example.test'], undefined, /^darezone: no password on standard input/],
      [['--email', 'not-an-email'], 'Operator-Chosen-Passphrase-7\n', /^darezone: --email is not a valid email address$/],
    ];
    for (const [args, stdin, message] of cases) {
      const res = await createAdmin(args, stdin);
      expect(res.code, args[1]).toBe(1);
      const lines = res.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
    await withApp(async (_app, db) => {
      const rows = await db.withSystem((tx) => tx.query(sql`select email from users where email in ('weak@example.test', 'nopass@example.test', 'not-an-email')`));
      expect(rows).toEqual([]);
    });
  }, 180_000);

  it('requires --email', async () => {
    const res = await createAdmin([], 'Operator-Chosen-Passphrase-7\n');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/--email/);
  }, 60_000);
});
