// Row-level security proof (SPEC §5.1), with the API layer bypassed: SQL runs through
// db.withUser(A, …) exactly as a request would (role darezone_api, caller A in darezone.user_id),
// and tries to read, change, delete and forge user B's private rows in every table. Runs on
// in-memory PGlite (`npm test`) and on PostgreSQL (`npm run test:services`).
//
// How to read it: CASES below has one entry per table of schema `public` — a new table fails the
// coverage test until it gets an entry. Each entry names B's private rows and says what A gets:
// nothing (RLS filters the rows / refuses the new row) or a privilege error (no GRANT for the
// API role at all). Every refusal has a positive control, so nothing passes vacuously: the rows
// exist (darezone_jobs counts them), B itself can do what A cannot, and a privileged role can run
// the very statement that the API role is denied. Each attempt runs in its own transaction, since
// a failing statement aborts the transaction it is in.
import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDriver } from '../../src/db/client.js';
import { API_ROLE, Database, JOBS_ROLE, pgErrorCode, Tx } from '../../src/db/database.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.js';

const engine = usingPostgres() ? 'PostgreSQL' : 'PGlite';

// The people.
const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'; // the attacker: shares nothing with B
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'; // the victim
const C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc'; // B's friend, member of B's challenge and organization
const D = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd'; // has an account but no profile yet (sign-up in progress)
const NEWCOMER = randomUUID(); // not a user yet: signs up in a control

// B's things (and C's public challenge, which B may join).
const H1 = '00000000-0000-4000-8000-000000000001'; // system habits (migration 0004)
const H2 = '00000000-0000-4000-8000-000000000002';
const PHOTO_B = randomUUID();
const AVATAR_B = randomUUID();
const HABIT_B = randomUUID();
const CHALLENGE_B = randomUUID(); // private group challenge: B (creator) and C
const CHALLENGE_C = randomUUID(); // C's public challenge
const ORG_B = randomUUID();
const THROTTLED_EMAIL = 'bob@example.test';

let t: TestDatabase;
let db: Database;
let owner: string;

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
  owner = (await db.driver.run('select session_user as u')).rows[0]!.u as string;
  await db.withSystem(async (tx) => {
    for (const [id, name] of [[A, 'alice'], [B, 'bob'], [C, 'carol'], [D, 'dave']] as const) {
      await tx.execute(sql`insert into users (id, email, password_hash) values (${id}, ${`${name}@example.test`}, 'x')`);
      if (id !== D) await tx.execute(sql`insert into user_profiles (user_id, display_name) values (${id}, ${name})`);
    }
    await tx.execute(sql`insert into media (id, owner_id, kind, content_type, size_bytes, storage_key, sha256) values
      (${PHOTO_B}, ${B}, 'photo', 'image/jpeg', 10, 'b/photo.jpg', repeat('a', 64)),
      (${AVATAR_B}, ${B}, 'avatar', 'image/webp', 10, 'b/avatar.webp', repeat('b', 64))`);
    await tx.execute(sql`update user_profiles set avatar_media_id = ${AVATAR_B}, bio = 'private-ish' where user_id = ${B}`);
    await tx.execute(sql`insert into habits (id, name, created_by) values (${HABIT_B}, 'Bob secret habit', ${B})`);
    await tx.execute(sql`insert into challenges (id, name, type, start_date, end_date, max_members, created_by) values
      (${CHALLENGE_B}, 'Bob private', 'group', '2030-01-01', '2030-02-01', 5, ${B})`);
    await tx.execute(sql`insert into challenges (id, name, type, start_date, end_date, max_members, created_by, is_public) values
      (${CHALLENGE_C}, 'Carol public', 'group', '2030-01-01', '2030-02-01', 5, ${C}, true)`);
    await tx.execute(sql`insert into challenge_habits (challenge_id, habit_id, position) values
      (${CHALLENGE_B}, ${H1}, 0), (${CHALLENGE_B}, ${HABIT_B}, 1), (${CHALLENGE_C}, ${H1}, 0)`);
    await tx.execute(sql`insert into challenge_members (challenge_id, user_id, role) values
      (${CHALLENGE_B}, ${B}, 'creator'), (${CHALLENGE_B}, ${C}, 'member'), (${CHALLENGE_C}, ${C}, 'creator')`);
    await tx.execute(sql`insert into check_ins (challenge_id, habit_id, user_id, local_date, photo_media_id, caption, points_earned, streak_after)
      values (${CHALLENGE_B}, ${H1}, ${B}, '2030-01-01', ${PHOTO_B}, 'day one', 10, 1)`);
    await tx.execute(sql`insert into hitch_log (challenge_id, habit_id, sender_id, target_id, local_date)
      values (${CHALLENGE_B}, ${H1}, ${B}, ${C}, '2030-01-01')`);
    await tx.execute(sql`insert into refresh_tokens (user_id, family_id, token_hash, expires_at)
      values (${B}, gen_random_uuid(), 'hash-of-bobs-token', now() + interval '30 days')`);
    await tx.execute(sql`insert into notifications (user_id, type, title) values (${B}, 'test', 'for Bob'), (${B}, 'test', 'for Bob again')`);
    // C asked, B (the addressee) accepted.
    await tx.execute(sql`insert into friendships (requester_id, addressee_id, status, responded_at) values (${C}, ${B}, 'accepted', now())`);
    await tx.execute(sql`insert into organizations (id, name, slug, created_by) values (${ORG_B}, 'Bob Org', 'bob-org', ${B})`);
    await tx.execute(sql`insert into organization_members (organization_id, user_id, role) values (${ORG_B}, ${B}, 'owner'), (${ORG_B}, ${C}, 'member')`);
    await tx.execute(sql`insert into programs (organization_id, name, period, habit_ids, checkin_type, start_date, created_by)
      values (${ORG_B}, 'Bob program', 'week', array[${H1}]::uuid[], 'any', '2030-01-01', ${B})`);
    await tx.execute(sql`insert into login_throttle (email_normalized, failures) values (${THROTTLED_EMAIL}, 3)`);
    await tx.execute(sql`insert into job_runs (job, scheduled_for) values ('rls-test-job', now())`);
    await tx.execute(sql`insert into alerts (rule, severity, message) values ('rls-test-rule', 'warning', 'm')`);
    await tx.execute(sql`insert into backups (id, engine) values ('rls-test-backup', 'test')`);
  });
});
afterAll(() => t?.close());

// ---------------------------------------------------------------------------------------------
// Running statements as somebody

type Runner = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;
const asUser =
  (id: string | null): Runner =>
  (fn) =>
    db.withUser(id, fn);
const asSystem: Runner = (fn) => db.withSystem(fn);
/** The connecting (migrating) role, for the one table even darezone_jobs may only read. */
const asOwner: Runner = (fn) => db.driver.transaction((runner) => fn(new Tx(runner)));

class Rollback extends Error {
  constructor(readonly value: unknown) {
    super('rolled back on purpose');
  }
}

type Outcome = { ok: true; value: number } | { ok: false; error: unknown };

/** Runs one statement in its own transaction (optionally rolled back) and reports what happened. */
async function attempt(run: Runner, statement: SQL, opts: { rollback?: boolean } = {}): Promise<Outcome> {
  try {
    const value = await run(async (tx) => {
      const n = await tx.execute(statement);
      if (opts.rollback) throw new Rollback(n);
      return n;
    });
    return { ok: true, value };
  } catch (err) {
    if (err instanceof Rollback) return { ok: true, value: err.value as number };
    return { ok: false, error: err };
  }
}

/** 'rls' | 'denied' for the two refusals (both SQLSTATE 42501), anything else verbatim. */
function refusal(outcome: Outcome, table: string): string {
  if (outcome.ok) return `succeeded, ${outcome.value} row(s)`;
  const code = pgErrorCode(outcome.error);
  const message = (outcome.error as Error).message;
  if (code === '42501' && message === `new row violates row-level security policy for table "${table}"`) return 'rls';
  if (code === '42501' && message === `permission denied for table ${table}`) return 'denied';
  return `${code}: ${message}`;
}

async function count(run: Runner, table: string, where: SQL): Promise<number> {
  const row = await run((tx) => tx.one<{ n: number }>(sql`select count(*) as n from ${sql.identifier(table)} where ${where}`));
  return row!.n;
}

async function snapshot(table: string, where: SQL) {
  return asOwner((tx) => tx.query(sql`select * from ${sql.identifier(table)} where ${where} order by 1`));
}

// ---------------------------------------------------------------------------------------------
// The cases: one per table

type Control = { as: string } | 'system' | 'owner';

interface TableCase {
  /** B's private rows (a WHERE condition). */
  rows: SQL;
  /** What A's SELECT gets: nothing; the rows (a documented design decision); a privilege error. */
  select: 'hidden' | 'readable by design' | 'denied';
  /** A harmful SET clause (that B itself may apply to all of these rows, when it is 'no rows'). */
  update: { set: SQL; expect: 'no rows' | 'denied' };
  delete: 'no rows' | 'denied';
  /** A row that belongs to (or is inside something of) `who`; A tries it with who = B. */
  insert: { row: (who: string) => SQL; expect: 'rls' | 'denied'; control: Control };
  /** Who may run what darezone_api is denied (the control for 'denied'). Default darezone_jobs. */
  privileged?: 'system' | 'owner';
}

const OPS = (rows: SQL, set: SQL, row: SQL, privileged: 'system' | 'owner' = 'system'): TableCase => ({
  rows,
  select: 'denied',
  update: { set, expect: 'denied' },
  delete: 'denied',
  insert: { row: () => row, expect: 'denied', control: privileged },
  privileged,
});

const CASES: Record<string, TableCase> = {
  users: {
    rows: sql`id = ${B}`,
    select: 'hidden',
    update: { set: sql`email = 'pwned@example.test', password_hash = 'pwned'`, expect: 'no rows' },
    delete: 'denied',
    insert: {
      row: (who) => sql`insert into users (id, email, password_hash) values (${who}, ${`${who}@signup.test`}, 'x')`,
      expect: 'rls',
      control: { as: NEWCOMER }, // signing up as yourself works
    },
  },
  user_profiles: {
    rows: sql`user_id = ${B}`,
    // 0003: profiles are readable by every signed-in user; the API returns only the public subset to
    // others and filters blocked users. Nothing private lives in this table (email is in users).
    select: 'readable by design',
    update: { set: sql`bio = 'pwned', points = 0, display_name = 'pwned'`, expect: 'no rows' },
    delete: 'denied',
    insert: {
      row: (who) => sql`insert into user_profiles (user_id, display_name) values (${who}, 'Forged')`,
      expect: 'rls',
      control: { as: D },
    },
  },
  refresh_tokens: {
    rows: sql`user_id = ${B}`,
    select: 'hidden',
    update: { set: sql`revoked_at = now()`, expect: 'no rows' },
    delete: 'no rows',
    insert: {
      row: (who) => sql`insert into refresh_tokens (user_id, family_id, token_hash, expires_at)
        values (${who}, gen_random_uuid(), ${randomUUID()}, now() + interval '1 day')`,
      expect: 'rls',
      control: { as: B },
    },
  },
  habits: {
    rows: sql`created_by = ${B}`,
    select: 'hidden',
    update: { set: sql`name = 'pwned'`, expect: 'denied' },
    delete: 'denied',
    insert: {
      row: (who) => sql`insert into habits (name, created_by) values ('Forged habit', ${who})`,
      expect: 'rls',
      control: { as: B },
    },
  },
  challenges: {
    rows: sql`created_by = ${B}`,
    select: 'hidden',
    update: { set: sql`name = 'pwned', is_public = true`, expect: 'no rows' },
    delete: 'denied',
    insert: {
      row: (who) => sql`insert into challenges (name, type, start_date, end_date, max_members, created_by)
        values ('Forged', 'group', '2030-01-01', '2030-02-01', 5, ${who})`,
      expect: 'rls',
      control: { as: B },
    },
  },
  challenge_habits: {
    rows: sql`challenge_id = ${CHALLENGE_B}`,
    select: 'hidden',
    update: { set: sql`total_check_ins = 999`, expect: 'no rows' },
    delete: 'denied',
    insert: {
      row: () => sql`insert into challenge_habits (challenge_id, habit_id, position) values (${CHALLENGE_B}, ${H2}, 2)`,
      expect: 'rls',
      control: { as: B },
    },
  },
  challenge_members: {
    rows: sql`challenge_id = ${CHALLENGE_B}`,
    select: 'hidden',
    update: { set: sql`points = 999, status = 'kicked'`, expect: 'no rows' },
    delete: 'denied',
    insert: {
      // Enrolling B in C's public challenge, holding its invite code (0008): only B may do that.
      row: (who) => sql`insert into challenge_members (challenge_id, user_id)
        select c.id, ${who} from challenges c, lateral (select set_config('darezone.invite_code', c.invite_code, true)) bound
        where c.id = ${CHALLENGE_C}`,
      expect: 'rls',
      control: { as: B },
    },
  },
  check_ins: {
    rows: sql`user_id = ${B}`,
    select: 'hidden',
    update: { set: sql`caption = 'pwned'`, expect: 'denied' },
    delete: 'denied',
    insert: {
      row: (who) => sql`insert into check_ins (challenge_id, habit_id, user_id, local_date)
        values (${CHALLENGE_B}, ${H1}, ${who}, '2030-01-02')`,
      expect: 'rls',
      control: { as: B },
    },
  },
  media: {
    // B's avatar is readable by design (profiles show it); photo/video evidence is private.
    rows: sql`owner_id = ${B} and kind <> 'avatar'`,
    select: 'hidden',
    update: { set: sql`storage_key = 'pwned'`, expect: 'denied' },
    delete: 'no rows',
    insert: {
      row: (who) => sql`insert into media (owner_id, kind, content_type, size_bytes, storage_key, sha256)
        values (${who}, 'photo', 'image/jpeg', 1, ${`k/${randomUUID()}.jpg`}, repeat('c', 64))`,
      expect: 'rls',
      control: { as: B },
    },
  },
  friendships: {
    rows: sql`${B} in (requester_id, addressee_id)`,
    select: 'hidden',
    update: { set: sql`status = 'rejected', responded_at = now()`, expect: 'no rows' },
    delete: 'no rows',
    insert: {
      row: (who) => sql`insert into friendships (requester_id, addressee_id) values (${who}, ${D})`,
      expect: 'rls',
      control: { as: B },
    },
  },
  notifications: {
    rows: sql`user_id = ${B}`,
    select: 'hidden',
    update: { set: sql`read_at = now()`, expect: 'no rows' },
    delete: 'no rows',
    insert: {
      row: (who) => sql`insert into notifications (user_id, type, title) values (${who}, 'forged', 'Forged')`,
      expect: 'rls', // A is connected to B in no way (app.can_notify)
      control: { as: B },
    },
  },
  hitch_log: {
    rows: sql`${B} in (sender_id, target_id)`,
    select: 'hidden',
    update: { set: sql`local_date = '2030-01-05'`, expect: 'denied' },
    delete: 'denied',
    insert: {
      row: (who) => sql`insert into hitch_log (challenge_id, habit_id, sender_id, target_id, local_date)
        values (${CHALLENGE_B}, ${H1}, ${who}, ${C}, '2030-01-02')`,
      expect: 'rls',
      control: { as: B },
    },
  },
  organizations: {
    rows: sql`created_by = ${B}`,
    select: 'hidden',
    update: { set: sql`name = 'pwned', plan = 'enterprise'`, expect: 'no rows' },
    delete: 'denied',
    insert: {
      row: (who) => sql`insert into organizations (name, slug, created_by) values ('Forged Org', ${`forged-${randomUUID().slice(0, 8)}`}, ${who})`,
      expect: 'rls',
      control: { as: B },
    },
  },
  organization_members: {
    rows: sql`organization_id = ${ORG_B}`,
    select: 'hidden',
    update: { set: sql`role = 'admin'`, expect: 'no rows' },
    delete: 'no rows',
    insert: {
      // A making itself an admin of B's organization: only B (its owner) may add anyone.
      row: () => sql`insert into organization_members (organization_id, user_id, role) values (${ORG_B}, ${A}, 'admin')`,
      expect: 'rls',
      control: { as: B },
    },
  },
  programs: {
    rows: sql`organization_id = ${ORG_B}`,
    select: 'hidden',
    update: { set: sql`name = 'pwned program', status = 'archived'`, expect: 'no rows' },
    delete: 'denied',
    insert: {
      row: (who) => sql`insert into programs (organization_id, name, period, habit_ids, checkin_type, start_date, created_by)
        values (${ORG_B}, 'Forged program', 'week', array[${H1}]::uuid[], 'any', '2030-01-01', ${who})`,
      expect: 'rls',
      control: { as: B },
    },
  },
  // Operations tables: darezone_jobs only, no grant at all for the API role.
  login_throttle: OPS(
    sql`email_normalized = ${THROTTLED_EMAIL}`,
    sql`failures = 0, locked_until = null`,
    sql`insert into login_throttle (email_normalized, locked_until) values (${`${B}@throttle.test`}, now() + interval '1 day')`,
  ),
  job_runs: OPS(sql`job = 'rls-test-job'`, sql`status = 'failed'`, sql`insert into job_runs (job, scheduled_for) values ('forged', now())`),
  alerts: OPS(
    sql`rule = 'rls-test-rule'`,
    sql`status = 'resolved', resolved_at = now()`,
    sql`insert into alerts (rule, severity, message) values ('forged', 'critical', 'forged')`,
  ),
  backups: OPS(sql`id = 'rls-test-backup'`, sql`status = 'failed'`, sql`insert into backups (id, engine) values ('forged', 'x')`),
  // The migrator's bookkeeping: even darezone_jobs may only read it.
  schema_migrations: OPS(
    sql`version = 1`,
    sql`checksum = 'pwned'`,
    sql`insert into schema_migrations (version, name, checksum) values (9999, '9999_forged', 'x')`,
    'owner',
  ),
};

const TABLES = Object.keys(CASES).sort();
const runnerFor = (control: Control): Runner =>
  control === 'system' ? asSystem : control === 'owner' ? asOwner : asUser(control.as);

// ---------------------------------------------------------------------------------------------

describe(`row-level security: A against B's rows, per table (${engine})`, () => {
  it('covers every table there is: a new table fails here until it gets a case', async () => {
    const { rows } = await db.driver.run(`select n.nspname as schema, c.relname as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'v', 'm', 'f')
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
        and n.nspname not like 'pg_temp%'
      order by 1, 2`);
    // Only tables, only in public: a view or a table elsewhere would need its own proof.
    expect(rows.map((r) => `${r.schema as string}.${r.name as string}`)).toEqual(TABLES.map((name) => `public.${name}`));
  });

  it("A's context is live (A sees its own rows) and the victim's rows exist", async () => {
    expect(await count(asUser(A), 'users', sql`id = ${A}`)).toBe(1);
    expect(await count(asUser(A), 'user_profiles', sql`user_id = ${A}`)).toBe(1);
    for (const table of TABLES) expect(await count(asOwner, table, CASES[table]!.rows), table).toBeGreaterThan(0);
  });

  for (const table of TABLES) {
    const c = CASES[table]!;
    const T = sql.identifier(table);
    const privileged = c.privileged === 'owner' ? asOwner : asSystem;

    describe(table, () => {
      it(`select: ${c.select === 'denied' ? 'permission denied' : c.select === 'hidden' ? "A sees none of B's rows, B sees them all" : "B's rows are readable by design"}`, async () => {
        const existing = await count(privileged, table, c.rows);
        expect(existing).toBeGreaterThan(0);
        const statement = sql`select * from ${T} where ${c.rows}`;
        const byA = await attempt(asUser(A), statement);
        const byB = await attempt(asUser(B), statement);
        if (c.select === 'denied') {
          expect(refusal(byA, table)).toBe('denied');
          expect(refusal(byB, table)).toBe('denied');
        } else {
          expect(byA).toEqual({ ok: true, value: c.select === 'hidden' ? 0 : existing });
          expect(byB).toEqual({ ok: true, value: existing });
        }
      });

      it(`update: ${c.update.expect === 'denied' ? 'permission denied (no UPDATE grant)' : 'A touches 0 rows; B may update them'}`, async () => {
        const before = await snapshot(table, c.rows);
        const statement = sql`update ${T} set ${c.update.set} where ${c.rows}`;
        const byA = await attempt(asUser(A), statement);
        if (c.update.expect === 'denied') {
          expect(refusal(byA, table)).toBe('denied');
          expect(refusal(await attempt(asUser(B), statement, { rollback: true }), table)).toBe('denied');
          expect(await attempt(privileged, statement, { rollback: true })).toEqual({ ok: true, value: before.length });
        } else {
          expect(byA).toEqual({ ok: true, value: 0 });
          expect(await attempt(asUser(B), statement, { rollback: true })).toEqual({ ok: true, value: before.length });
        }
        expect(await snapshot(table, c.rows)).toEqual(before);
      });

      it(`delete: ${c.delete === 'denied' ? 'permission denied (no DELETE grant)' : 'A deletes 0 rows; B may delete them'}`, async () => {
        const before = await snapshot(table, c.rows);
        const statement = sql`delete from ${T} where ${c.rows}`;
        const byA = await attempt(asUser(A), statement);
        if (c.delete === 'denied') {
          expect(refusal(byA, table)).toBe('denied');
          expect(refusal(await attempt(asUser(B), statement, { rollback: true }), table)).toBe('denied');
          // Deleting may hit foreign keys, so the control only plans it with the privileged role.
          await expect(privileged((tx) => tx.query(sql`explain ${statement}`))).resolves.not.toHaveLength(0);
        } else {
          expect(byA).toEqual({ ok: true, value: 0 });
          expect(await attempt(asUser(B), statement, { rollback: true })).toEqual({ ok: true, value: before.length });
        }
        expect(await snapshot(table, c.rows)).toEqual(before);
      });

      it(`insert as B: ${c.insert.expect === 'rls' ? 'refused by the policy (42501 row-level security)' : 'permission denied (no INSERT grant)'}`, async () => {
        const existing = await count(asOwner, table, sql`true`);
        expect(refusal(await attempt(asUser(A), c.insert.row(B)), table)).toBe(c.insert.expect);
        if (c.insert.expect === 'denied') expect(refusal(await attempt(asUser(B), c.insert.row(B)), table)).toBe('denied');
        const who = typeof c.insert.control === 'object' ? c.insert.control.as : B;
        expect(await attempt(runnerFor(c.insert.control), c.insert.row(who), { rollback: true })).toEqual({ ok: true, value: 1 });
        expect(await count(asOwner, table, sql`true`)).toBe(existing);
      });
    });
  }
});

describe(`row-level security: other callers and columns (${engine})`, () => {
  it('no caller (withUser(null), before sign-in) sees any row of any table but the system habits', async () => {
    for (const table of TABLES.filter((name) => CASES[name]!.select !== 'denied')) {
      const all = await count(asOwner, table, sql`true`);
      expect(all, table).toBeGreaterThan(0);
      expect(await count(asUser(null), table, table === 'habits' ? sql`not is_system` : sql`true`), table).toBe(0);
    }
    expect(await count(asUser(null), 'habits', sql`is_system`)).toBe(10);
  });

  it("B's avatar and profile are readable by A by design; B's evidence photo is not", async () => {
    expect(await count(asUser(A), 'media', sql`id = ${AVATAR_B}`)).toBe(1);
    expect(await count(asUser(A), 'media', sql`id = ${PHOTO_B}`)).toBe(0);
    expect(await count(asUser(C), 'media', sql`id = ${PHOTO_B}`)).toBe(1); // fellow member of the challenge
  });

  it('security-definer helpers answer for the caller only', async () => {
    const probe = (who: string) =>
      db.withUser(who, (tx) =>
        tx.one(sql`select app.can_see_challenge(${CHALLENGE_B}) as see, app.is_challenge_member(${CHALLENGE_B}) as member,
            app.is_org_member(${ORG_B}) as org, app.can_read_media(${PHOTO_B}) as media, app.are_friends(${C}) as friends,
            app.can_see_habit(${HABIT_B}) as habit, app.user_id_for_org_admin(${ORG_B}, 'carol@example.test') as lookup`),
      );
    expect(await probe(A)).toEqual({ see: false, member: false, org: false, media: false, friends: false, habit: false, lookup: null });
    expect(await probe(B)).toEqual({ see: true, member: true, org: true, media: true, friends: true, habit: true, lookup: C });
  });

  it('columns the API role may not write are refused even on its own rows (column grants)', async () => {
    const own = [
      [sql`update users set role = 'admin' where id = ${B}`, 'users'],
      [sql`update challenges set member_count = 0 where id = ${CHALLENGE_B}`, 'challenges'],
      [sql`update challenges set created_by = ${A} where id = ${CHALLENGE_B}`, 'challenges'],
      [sql`update challenge_members set user_id = ${A} where challenge_id = ${CHALLENGE_B}`, 'challenge_members'],
      [sql`update organizations set feature_flags = '{"sso": true}' where id = ${ORG_B}`, 'organizations'],
      [sql`update programs set last_cohort_start = '2030-01-01' where organization_id = ${ORG_B}`, 'programs'],
      [sql`update notifications set user_id = ${A} where user_id = ${B}`, 'notifications'],
      [sql`update refresh_tokens set user_id = ${A}, token_hash = 'x' where user_id = ${B}`, 'refresh_tokens'],
    ] as const;
    for (const [statement, table] of own) {
      expect(refusal(await attempt(asUser(B), statement), table), table).toBe('denied');
    }
    // And signing up as an admin is refused by the users policy (role must be 'user').
    const admin = sql`insert into users (id, email, password_hash, role) values (${NEWCOMER}, 'root@signup.test', 'x', 'admin')`;
    expect(refusal(await attempt(asUser(NEWCOMER), admin), 'users')).toBe('rls');
  });
});

describe(`roles and policies in the catalog (${engine})`, () => {
  it('every table in public has RLS enabled and forced, at least one policy, and no grant to PUBLIC', async () => {
    const { rows } = await db.driver.run(`select c.relname as name, c.relrowsecurity as rls, c.relforcerowsecurity as forced,
        (select count(*) from pg_policy p where p.polrelid = c.oid) as policies,
        (select count(*) from information_schema.role_table_grants g
           where g.table_schema = 'public' and g.table_name = c.relname and g.grantee = 'PUBLIC') as public_grants
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`);
    expect(rows.map((r) => r.name)).toEqual(TABLES);
    for (const r of rows) {
      expect({ table: r.name, rls: r.rls, forced: r.forced, public_grants: r.public_grants }).toEqual({
        table: r.name,
        rls: true,
        forced: true,
        public_grants: 0,
      });
      expect(r.policies as number, r.name as string).toBeGreaterThanOrEqual(1);
    }
  });

  it('darezone_api is neither superuser nor BYPASSRLS, owns nothing and is a member of no role (not darezone_jobs)', async () => {
    const { rows } = await db.driver.run(`select r.rolname as role, r.rolsuper as super, r.rolbypassrls as bypass, r.rolcreaterole as createrole,
        (select count(*) from pg_class c where c.relowner = r.oid) as owns_relations,
        (select count(*) from pg_proc p where p.proowner = r.oid) as owns_functions,
        (select count(*) from pg_namespace s where s.nspowner = r.oid) as owns_schemas,
        (select count(*) from pg_auth_members m where m.member = r.oid) as member_of,
        pg_has_role(r.oid, 'darezone_jobs', 'MEMBER') as in_jobs
      from pg_roles r where r.rolname in ('darezone_api', 'darezone_jobs') order by 1`);
    expect(rows).toEqual([
      { role: API_ROLE, super: false, bypass: false, createrole: false, owns_relations: 0, owns_functions: 0, owns_schemas: 0, member_of: 0, in_jobs: false },
      // darezone_jobs owns the security-definer helpers (0001) but no table.
      { role: JOBS_ROLE, super: false, bypass: false, createrole: false, owns_relations: 0, owns_functions: expect.any(Number), owns_schemas: 0, member_of: 0, in_jobs: true },
    ]);
  });

  it('withUser runs as darezone_api with the caller id; withSystem as darezone_jobs with none', async () => {
    const q = sql`select current_user as role, session_user as session, app.current_user_id() as caller`;
    expect(await db.withUser(A, (tx) => tx.one(q))).toEqual({ role: API_ROLE, session: owner, caller: A });
    expect(await db.withUser(null, (tx) => tx.one(q))).toEqual({ role: API_ROLE, session: owner, caller: null });
    expect(await db.withSystem((tx) => tx.one(q))).toEqual({ role: JOBS_ROLE, session: owner, caller: null });
  });

  it('the role and darezone.user_id do not outlive the transaction on the same connection (committed, failed, or concurrent)', async () => {
    // PGlite is one connection; on PostgreSQL a pool of one makes "the same connection" certain.
    const single = usingPostgres() ? new Database(await openDriver({ databaseUrl: t.url!, poolMax: 1 })) : db;
    const after = `select current_setting('darezone.user_id', true) as setting, current_user as role, pg_backend_pid() as pid`;
    try {
      const inside = await single.withUser(A, (tx) =>
        tx.one<{ setting: string; role: string; pid: number }>(sql.raw(after)),
      );
      expect(inside).toMatchObject({ setting: A, role: API_ROLE });

      const next = (await single.driver.run(after)).rows[0]!;
      expect(next.pid).toBe(inside!.pid);
      expect(next.setting ?? '').toBe('');
      expect(next.role).toBe(owner);
      // and a transaction that does not set it sees no caller either
      expect(await single.driver.transaction(async (r) => (await r.run('select app.current_user_id() as id')).rows[0])).toEqual({ id: null });

      // A failed request does not leave its identity behind either.
      await expect(single.withUser(B, (tx) => tx.execute(sql`select 1 / 0`))).rejects.toThrow();
      const afterFailure = (await single.driver.run(after)).rows[0]!;
      expect(afterFailure.setting ?? '').toBe('');
      expect(afterFailure.role).toBe(owner);

      // A statement issued while a request's transaction is open never runs inside it.
      let entered!: () => void;
      const inTransaction = new Promise<void>((resolve) => (entered = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const request = single.withUser(A, async (tx) => {
        entered();
        await gate;
        return tx.one(sql.raw(after));
      });
      await inTransaction;
      const outside = single.driver.run(after);
      await new Promise((r) => setTimeout(r, 50));
      release();
      const [requestRow, outsideResult] = await Promise.all([request, outside]);
      expect(requestRow).toMatchObject({ setting: A, role: API_ROLE });
      expect(outsideResult.rows[0]!.setting ?? '').toBe('');
      expect(outsideResult.rows[0]!.role).toBe(owner);
    } finally {
      if (single !== db) await single.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Gaps this test found in migrations 0001-0003, closed by migration 0008. Each test shows the attack
// now fails and that the legitimate path still works. Everything runs in rolled-back transactions.

describe(`policy gaps closed by migration 0008 (${engine})`, () => {
  /** Runs fn as `who` in one transaction and rolls it back. */
  async function inOneTransaction<T>(who: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      await db.withUser(who, async (tx) => {
        throw new Rollback(await fn(tx));
      });
    } catch (err) {
      if (err instanceof Rollback) return err.value as T;
      throw err;
    }
    throw new Error('unreachable');
  }

  it('a friendship pair cannot be rewritten (no forged accepted friendship with a third person)', async () => {
    const id = randomUUID();
    await expect(
      inOneTransaction(A, async (tx) => {
        await tx.execute(sql`insert into friendships (id, requester_id, addressee_id) values (${id}, ${A}, ${D})`);
        return tx.execute(sql`update friendships set requester_id = ${B}, addressee_id = ${A}, status = 'accepted',
          responded_at = now() where id = ${id}`);
      }),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('joining a private challenge needs its invite code bound to the transaction', async () => {
    await expect(
      inOneTransaction(A, (tx) => tx.execute(sql`insert into challenge_members (challenge_id, user_id) values (${CHALLENGE_B}, ${A})`)),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      inOneTransaction(A, async (tx) => {
        await tx.execute(sql`select set_config('darezone.invite_code', 'WRONGCDE', true)`);
        return tx.execute(sql`insert into challenge_members (challenge_id, user_id) values (${CHALLENGE_B}, ${A})`);
      }),
    ).rejects.toMatchObject({ code: '42501' });
    const code = await db.withSystem((tx) => tx.one<{ invite_code: string }>(sql`select invite_code from challenges where id = ${CHALLENGE_B}`));
    const joined = await inOneTransaction(A, async (tx) => {
      await tx.execute(sql`select set_config('darezone.invite_code', ${code!.invite_code.toLowerCase()}, true)`);
      return tx.execute(sql`insert into challenge_members (challenge_id, user_id) values (${CHALLENGE_B}, ${A})`);
    });
    expect(joined).toBe(1);
  });

  it('a kicked member cannot reinstate themselves; a challenge admin can', async () => {
    await db.withSystem((tx) => tx.execute(sql`update challenge_members set status = 'kicked', left_at = now() where challenge_id = ${CHALLENGE_B} and user_id = ${C}`));
    try {
      await expect(
        inOneTransaction(C, (tx) =>
          tx.execute(sql`update challenge_members set status = 'active', left_at = null where challenge_id = ${CHALLENGE_B} and user_id = ${C}`),
        ),
      ).rejects.toMatchObject({ code: '42501' });
      const byAdmin = await inOneTransaction(B, (tx) =>
        tx.execute(sql`update challenge_members set status = 'active', left_at = null where challenge_id = ${CHALLENGE_B} and user_id = ${C}`),
      );
      expect(byAdmin).toBe(1);
    } finally {
      await db.withSystem((tx) => tx.execute(sql`update challenge_members set status = 'active', left_at = null where challenge_id = ${CHALLENGE_B} and user_id = ${C}`));
    }
  });

  it('feature_flags cannot be chosen when creating an organization (plan can, as the API allows)', async () => {
    await expect(
      inOneTransaction(A, (tx) =>
        tx.execute(sql`insert into organizations (name, slug, created_by, feature_flags, plan)
          values ('Self-served', 'self-served', ${A}, '{"sso": true, "unlimited": true}', 'enterprise')`),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    const plain = await inOneTransaction(A, (tx) =>
      tx.execute(sql`insert into organizations (name, slug, created_by, plan) values ('Self-served', 'self-served', ${A}, 'enterprise')`),
    );
    expect(plain).toBe(1);
  });

  it('LIMIT: SQL run inside withUser can leave darezone_api or rename its caller (the session user is the owner), so RLS stops missing checks, not injected SQL', async () => {
    const escaped = await inOneTransaction(A, async (tx) => {
      await tx.execute(sql`select set_config('darezone.user_id', ${B}, true)`);
      const asB = await tx.one<{ n: number }>(sql`select count(*) as n from refresh_tokens`);
      await tx.execute(sql`set local role darezone_jobs`);
      const asJobs = await tx.one<{ n: number }>(sql`select count(*) as n from users`);
      return { asB: asB!.n, asJobs: asJobs!.n };
    });
    expect(escaped).toEqual({ asB: 1, asJobs: 4 });
  });
});
