// Both engines must hand the code identical JS values and identical errors: the suite runs on PGlite
// by default and production may run on PostgreSQL, so any difference here is a bug that only one
// deployment mode would see. Runs on in-memory PGlite (`npm test`) and on PostgreSQL
// (`npm run test:services`).
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConstraint, pgErrorCode, PG } from '../../src/db/database.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.close());

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the statement to fail');
}

describe(`driver value types (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  const typesQuery = `select '2024-02-29'::date as d, null::date as d_null,
      array['2024-01-01'::date, null]::date[] as d_arr,
      (select count(*) from (values (1), (2), (3)) v) as n,
      5000000000::int8 as big, array[1, 2]::int8[] as big_arr, 1.25::numeric as num, 7::int4 as i4,
      '2024-03-01T12:34:56.789Z'::timestamptz as ts, array['2024-03-01T00:00:00Z'::timestamptz] as ts_arr,
      '{"a": 1, "b": [true, null], "c": {"d": "x"}}'::jsonb as j, '[1, 2]'::jsonb as j_arr,
      array['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222']::uuid[] as ids,
      gen_random_uuid() as id, array['x', 'y']::text[] as texts, true as flag, '1 day 02:00:00'::interval as iv`;

  function expectTypes(row: Record<string, unknown>) {
    expect(row.d).toBe('2024-02-29');
    expect(row.d_null).toBeNull();
    expect(row.d_arr).toEqual(['2024-01-01', null]);
    expect(row.n).toBe(3);
    expect(row.big).toBe(5_000_000_000);
    expect(row.big_arr).toEqual([1, 2]);
    expect(row.num).toBe(1.25);
    expect(row.i4).toBe(7);
    expect(row.ts).toBeInstanceOf(Date);
    expect((row.ts as Date).toISOString()).toBe('2024-03-01T12:34:56.789Z');
    expect(row.ts_arr).toEqual([new Date('2024-03-01T00:00:00Z')]);
    expect(row.j).toEqual({ a: 1, b: [true, null], c: { d: 'x' } });
    expect(row.j_arr).toEqual([1, 2]);
    expect(row.ids).toEqual(['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222']);
    expect(row.id).toMatch(UUID);
    expect(row.texts).toEqual(['x', 'y']);
    expect(row.flag).toBe(true);
    expect(row.iv).toBe('1 day 02:00:00');
  }

  it('raw driver: DATE as YYYY-MM-DD, counts and int8 as numbers, timestamptz as Date, jsonb as objects, arrays as JS arrays', async () => {
    const { rows } = await t.db.driver.run(typesQuery);
    expectTypes(rows[0]!);
  });

  it('the same inside a transaction, through withUser/withSystem and drizzle parameters', async () => {
    const viaSystem = await t.db.withSystem((tx) => tx.one(sql.raw(typesQuery)));
    expectTypes(viaSystem!);
    const viaUser = await t.db.withUser(randomUUID(), (tx) => tx.one(sql.raw(typesQuery)));
    expectTypes(viaUser!);
    // Parameters go in as JS values and come back with the same types.
    const day = '2031-12-31';
    const at = new Date('2031-01-02T03:04:05.678Z');
    const row = await t.db.withSystem((tx) =>
      tx.one<{ d: unknown; at: unknown; j: unknown; ids: unknown }>(
        sql`select ${day}::date as d, ${at}::timestamptz as at, ${JSON.stringify({ k: [1] })}::jsonb as j,
              array[${'11111111-1111-4111-8111-111111111111'}]::uuid[] as ids`,
      ),
    );
    expect(row).toEqual({ d: day, at, j: { k: [1] }, ids: ['11111111-1111-4111-8111-111111111111'] });
  });

  it('values read back from real columns keep those types (bigint size, date, jsonb, uuid[])', async () => {
    const user = randomUUID();
    const org = randomUUID();
    const habit = '00000000-0000-4000-8000-000000000001';
    const row = await t.db.withSystem(async (tx) => {
      await tx.execute(sql`insert into users (id, email, password_hash) values (${user}, ${`${user}@example.test`}, 'x')`);
      await tx.execute(sql`insert into media (owner_id, kind, content_type, size_bytes, storage_key, sha256)
        values (${user}, 'photo', 'image/png', 9007199254740991, ${`k/${user}.png`}, repeat('a', 64))`);
      await tx.execute(sql`insert into organizations (id, name, slug, created_by, feature_flags)
        values (${org}, 'Types Org', ${`types-${user.slice(0, 8)}`}, ${user}, '{"sso": true}')`);
      await tx.execute(sql`insert into programs (organization_id, name, period, habit_ids, checkin_type, start_date, created_by)
        values (${org}, 'Typed', 'week', array[${habit}]::uuid[], 'any', '2030-06-01', ${user})`);
      return tx.one(sql`select m.size_bytes, p.start_date, p.end_date, p.habit_ids, p.created_at, o.feature_flags,
          (select count(*) from media where owner_id = ${user}) as media_count
        from media m, programs p join organizations o on o.id = p.organization_id
        where m.owner_id = ${user} and o.id = ${org}`);
    });
    expect(row).toMatchObject({
      size_bytes: 9007199254740991,
      start_date: '2030-06-01',
      end_date: null,
      habit_ids: [habit],
      feature_flags: { sso: true },
      media_count: 1,
    });
    expect(row!.created_at).toBeInstanceOf(Date);
  });

  it('Tx.execute counts touched rows the same way on both engines (SELECT included)', async () => {
    const counts = await t.db.withSystem(async (tx) => {
      const job = `count-${randomUUID()}`;
      const inserted = await tx.execute(sql`insert into job_runs (job, scheduled_for, status)
        select ${job}, now() + make_interval(hours => g), 'success' from generate_series(1, 3) g`);
      const updated = await tx.execute(sql`update job_runs set attempt = 2 where job = ${job} and scheduled_for > now() + interval '90 minutes'`);
      const selected = await tx.execute(sql`select 1 from job_runs where job = ${job}`);
      const none = await tx.execute(sql`select 1 from job_runs where job = ${job} and false`);
      const conflict = await tx.execute(sql`insert into job_runs (job, scheduled_for, status)
        select job, scheduled_for, 'success' from job_runs where job = ${job} on conflict do nothing`);
      const deleted = await tx.execute(sql`delete from job_runs where job = ${job}`);
      return { inserted, updated, selected, none, conflict, deleted };
    });
    expect(counts).toEqual({ inserted: 3, updated: 2, selected: 3, none: 0, conflict: 0, deleted: 3 });
  });
});

describe('transactions', () => {
  const countJob = async (job: string) =>
    (await t.db.withSystem((tx) => tx.one<{ n: number }>(sql`select count(*) as n from job_runs where job = ${job}`)))!.n;

  it('a failing statement inside driver.transaction() rolls back the statements before it', async () => {
    const job = `rollback-${randomUUID()}`;
    const err = await caught(
      t.db.driver.transaction(async (tx) => {
        await tx.run(`insert into job_runs (job, scheduled_for) values ($1, now())`, [job]);
        expect((await tx.run('select count(*) as n from job_runs where job = $1', [job])).rows[0]!.n).toBe(1);
        await tx.run('select 1 / 0');
      }),
    );
    expect(pgErrorCode(err)).toBe('22012'); // division_by_zero
    expect(await countJob(job)).toBe(0);
  });

  it('withSystem/withUser roll back on a failing statement and on a thrown JS error', async () => {
    const job = `rollback-${randomUUID()}`;
    const sqlErr = await caught(
      t.db.withSystem(async (tx) => {
        await tx.execute(sql`insert into job_runs (job, scheduled_for) values (${job}, now())`);
        await tx.execute(sql`insert into job_runs (job, scheduled_for) values (${job}, now() + interval '1 hour', 'not-a-column')`);
      }),
    );
    expect(pgErrorCode(sqlErr)).toBe('42601'); // more expressions than target columns
    const jsErr = await caught(
      t.db.withSystem(async (tx) => {
        await tx.execute(sql`insert into job_runs (job, scheduled_for) values (${job}, now())`);
        throw new Error('service rule failed after the insert');
      }),
    );
    expect((jsErr as Error).message).toBe('service rule failed after the insert');
    expect(await countJob(job)).toBe(0);

    const user = randomUUID();
    await t.db.withSystem((tx) => tx.execute(sql`insert into users (id, email, password_hash) values (${user}, ${`${user}@example.test`}, 'x')`));
    const userErr = await caught(
      t.db.withUser(user, async (tx) => {
        await tx.execute(sql`insert into notifications (user_id, type, title) values (${user}, 'test', 'kept?')`);
        await tx.execute(sql`select 1 / 0`);
      }),
    );
    expect(pgErrorCode(userErr)).toBe('22012');
    const left = await t.db.withSystem((tx) => tx.one(sql`select count(*) as n from notifications where user_id = ${user}`));
    expect(left).toEqual({ n: 0 });

    // The connection is usable afterwards and a later transaction commits normally.
    await t.db.withSystem((tx) => tx.execute(sql`insert into job_runs (job, scheduled_for) values (${job}, now())`));
    expect(await countJob(job)).toBe(1);
  });

  it('a unique violation surfaces pgErrorCode 23505 and the constraint name, for constraints and unique indexes', async () => {
    const user = randomUUID();
    const email = `Unique-${user}@Example.test`;
    await t.db.withSystem((tx) => tx.execute(sql`insert into users (id, email, password_hash) values (${user}, ${email}, 'x')`));

    // users_email_key is a unique index on lower(email): the case-insensitive duplicate.
    const dupEmail = await caught(
      t.db.withSystem((tx) =>
        tx.execute(sql`insert into users (email, password_hash) values (${email.toLowerCase()}, 'x')`),
      ),
    );
    expect(pgErrorCode(dupEmail)).toBe(PG.UNIQUE_VIOLATION);
    expect(pgConstraint(dupEmail)).toBe('users_email_key');

    // organizations_slug_key is a named UNIQUE constraint; the violation inside withUser (RLS on).
    const slug = `uniq-${user.slice(0, 8)}`;
    await t.db.withUser(user, (tx) =>
      tx.execute(sql`insert into organizations (name, slug, created_by) values ('First', ${slug}, ${user})`),
    );
    const dupSlug = await caught(
      t.db.withUser(user, (tx) =>
        tx.execute(sql`insert into organizations (name, slug, created_by) values ('Second', ${slug}, ${user})`),
      ),
    );
    expect(pgErrorCode(dupSlug)).toBe(PG.UNIQUE_VIOLATION);
    expect(pgConstraint(dupSlug)).toBe('organizations_slug_key');
  });

  it('check and foreign-key violations carry their codes and constraint names too', async () => {
    const check = await caught(
      t.db.withSystem((tx) => tx.execute(sql`insert into backups (id, engine) values ('../escape', 'x')`)),
    );
    expect(pgErrorCode(check)).toBe(PG.CHECK_VIOLATION);
    expect(pgConstraint(check)).toBe('backups_id_format');

    const fk = await caught(
      t.db.withSystem((tx) =>
        tx.execute(sql`insert into user_profiles (user_id, display_name) values (${randomUUID()}, 'Ghost')`),
      ),
    );
    expect(pgErrorCode(fk)).toBe(PG.FOREIGN_KEY_VIOLATION);
    expect(pgConstraint(fk)).toBe('user_profiles_user_id_fkey');
  });
});
