// Two app instances, each with its own connection pool, sharing one PostgreSQL database (§5.3):
// they evaluate at the same moment, yet each alert transition is notified once, not twice — the
// alerts table with its partial unique index (one firing row per rule) is the lock. Request-based
// alerts are judged per instance: an instance with healthy traffic does not resolve an alert that
// another instance still sees.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { openDriver } from '../../src/db/client.js';
import { Database } from '../../src/db/database.js';
import { testConfig } from '../helpers/app.js';
import { TestClock } from '../helpers/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startSmtp, startWebhook } from '../alerts/receivers.js';

let database: TestDatabase;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let slack: Awaited<ReturnType<typeof startWebhook>>;
const apps: FastifyInstance[] = [];
const pools: Database[] = [];
const clock = new TestClock('2026-06-15T12:00:00Z');

beforeAll(async () => {
  database = await createTestDatabase();
  expect(database.url, 'this test needs PostgreSQL (npm run test:services)').toBeDefined();
  smtp = await startSmtp();
  slack = await startWebhook();
  const config = testConfig({
    SMTP_URL: smtp.url,
    ALERT_EMAIL_TO: 'oncall@example.test',
    SLACK_WEBHOOK_URL: slack.url,
    ALERT_DELIVERY_RETRY_MS: '20',
    ALERT_HTTP_P95_MS: '60000',
  });
  for (let i = 0; i < 2; i++) {
    const db = new Database(await openDriver({ databaseUrl: database.url, poolMax: 4 }));
    pools.push(db);
    apps.push(
      await buildApp({
        config,
        db,
        clock,
        extend: (app) => {
          app.get('/test/boom', { config: { public: true } }, async () => {
            throw new Error('boom');
          });
          app.get('/test/fine', { config: { public: true } }, async () => ({ ok: true }));
        },
      }),
    );
  }
  const at = new Date(clock.now().getTime() - 3_600_000);
  await database.db.withSystem((tx) =>
    tx.execute(sql`insert into backups (id, status, engine, started_at, finished_at, verified_at, verify_status)
      values ('b-good', 'completed', 'postgres', ${at}, ${at}, ${at}, 'passed')`),
  );
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await Promise.all(pools.map((p) => p.close()));
  await database?.close();
  await smtp?.close();
  await slack?.close();
});

/** Both instances evaluate at once; returns every notice either of them sent. */
async function evaluateBoth(): Promise<string[]> {
  const results = await Promise.all(apps.map((a) => a.alerting.manager.evaluate()));
  await Promise.all(apps.map((a) => a.alerting.delivery.idle()));
  return results.flat().map((n) => `${n.kind} ${n.alert.rule}`);
}

it('one backup failure seen by two instances at the same moment: one firing message, one resolved message', async () => {
  for (let round = 0; round < 5; round++) expect(await evaluateBoth()).toEqual([]);
  await database.db.withSystem((tx) =>
    tx.execute(sql`insert into backups (id, status, engine, error, started_at, finished_at)
      values ('b-bad', 'failed', 'postgres', 'disk full', ${clock.now()}, ${clock.now()})`),
  );
  expect(await evaluateBoth()).toEqual(['firing backup_failed']);
  expect(await evaluateBoth()).toEqual([]);
  expect(smtp.mails).toHaveLength(1);
  expect(slack.posts).toHaveLength(1);

  clock.advance(4 * 3_600_000); // the reminder is taken by one instance only
  expect(await evaluateBoth()).toEqual(['reminder backup_failed']);

  clock.advance(60_000);
  await database.db.withSystem((tx) =>
    tx.execute(sql`insert into backups (id, status, engine, started_at, finished_at) values ('b-fixed', 'completed', 'postgres', ${clock.now()}, ${clock.now()})`),
  );
  expect(await evaluateBoth()).toEqual(['resolved backup_failed']);
  expect(await evaluateBoth()).toEqual([]);
  expect(smtp.mails.map((m) => m.subject.split(']')[0])).toEqual(['[FIRING critical', '[STILL FIRING critical', '[RESOLVED']);
  expect(slack.posts).toHaveLength(3);
  const rows = await database.db.withSystem((tx) => tx.query<{ status: string }>(sql`select status from alerts where rule = 'backup_failed'`));
  expect(rows).toEqual([{ status: 'resolved' }]);
});

it('5xx on one instance: fired once; the healthy instance does not resolve it; resolved once the failing one recovers', async () => {
  const [sick, healthy] = apps as [FastifyInstance, FastifyInstance];
  smtp.mails.length = 0;
  clock.advance(10 * 60_000);
  for (let i = 0; i < 10; i++) await sick.inject({ url: '/test/boom' });
  for (let i = 0; i < 50; i++) await sick.inject({ url: '/test/fine' });
  for (let i = 0; i < 60; i++) await healthy.inject({ url: '/test/fine' });
  expect(await evaluateBoth()).toEqual(['firing http_5xx_ratio']);
  expect(await evaluateBoth()).toEqual([]); // the healthy instance's view does not resolve it

  clock.advance(10 * 60_000); // the sick instance's window is clean again
  for (let i = 0; i < 60; i++) await sick.inject({ url: '/test/fine' });
  expect(await evaluateBoth()).toEqual(['resolved http_5xx_ratio']);
  expect(smtp.mails.map((m) => m.subject.split(']')[0])).toEqual(['[FIRING critical', '[RESOLVED']);
});

it('an instance that saw the condition and then vanished stops holding the alert after 2.5 intervals', async () => {
  const [sick, healthy] = apps as [FastifyInstance, FastifyInstance];
  smtp.mails.length = 0;
  clock.advance(10 * 60_000);
  for (let i = 0; i < 10; i++) await sick.inject({ url: '/test/boom' });
  for (let i = 0; i < 50; i++) await sick.inject({ url: '/test/fine' });
  expect((await sick.alerting.manager.evaluate()).map((n) => n.kind)).toEqual(['firing']);
  await sick.alerting.delivery.idle();
  // The sick instance stops evaluating (it died). The healthy one sees nothing wrong:
  clock.advance(60_000);
  expect(await healthy.alerting.manager.evaluate()).toEqual([]); // a fresh sighting by another instance
  clock.advance(2 * 60_000);
  expect((await healthy.alerting.manager.evaluate()).map((n) => `${n.kind} ${n.alert.rule}`)).toEqual(['resolved http_5xx_ratio']);
  await healthy.alerting.delivery.idle();
  expect(smtp.mails).toHaveLength(2);
});
