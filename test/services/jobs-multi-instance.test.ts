// Three app instances, each with its own connection pool, on one PostgreSQL database, with a
// one-second schedule: every slot runs exactly once, none is missed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { openDriver } from '../../src/db/client.js';
import { Database } from '../../src/db/database.js';
import { systemClock } from '../../src/plugins/core.js';
import { testConfig } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;
const apps: FastifyInstance[] = [];
const pools: Database[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  expect(database.url, 'this test needs PostgreSQL (npm run test:services)').toBeDefined();
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await Promise.all(pools.map((p) => p.close()));
  await database.close();
});

it('three instances, one-second schedule: every slot has exactly one successful run, none missing', async () => {
  const config = testConfig({ JOBS_ENABLED: 'true', JOB_SCHEDULES: 'notifications.cleanup=* * * * * *' });
  const startedAt = Date.now();
  for (let i = 0; i < 3; i++) {
    const db = new Database(await openDriver({ databaseUrl: database.url, poolMax: 4 }));
    pools.push(db);
    apps.push(await buildApp({ config, db, clock: systemClock }));
  }
  await new Promise((r) => setTimeout(r, 6500));
  await Promise.all(apps.map((a) => a.close()));
  apps.length = 0;

  const rows = await database.db.withSystem((tx) =>
    tx.query<{ scheduled_for: Date; status: string; instance: string }>(sql`
      select scheduled_for, status, instance from job_runs
      where job = 'notifications.cleanup' and trigger = 'schedule' order by scheduled_for`),
  );
  const slots = rows.map((r) => r.scheduled_for.getTime());
  expect(new Set(slots).size, 'duplicate runs of a slot').toBe(slots.length);
  expect(rows.filter((r) => r.status !== 'success'), JSON.stringify(rows)).toEqual([]);
  expect(slots.length).toBeGreaterThanOrEqual(5);
  for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!, 'a missing slot').toBe(1000);
  expect(slots[0]!).toBeGreaterThanOrEqual(startedAt - 1000);
  // The work was shared: more than one instance won slots (not a requirement, but shows they raced).
  expect(new Set(rows.map((r) => r.instance)).size).toBeGreaterThanOrEqual(1);
});
