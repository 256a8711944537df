// SMTP down (§5.3): the alert still fires and is recorded, delivery is retried with backoff and
// every failure is logged, requests are answered as usual meanwhile, and when the server comes
// back a retry delivers the message. Nothing throws into the evaluation or the process.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { captureLogs } from '../helpers/log-capture.js';
import { freePort, waitFor } from '../helpers/process.js';
import { startSmtp } from './receivers.js';

let t: TestContext;
let port: number;
const logs = captureLogs();
const events = () =>
  logs.lines.map((l) => JSON.parse(l) as { event?: string; channel?: string; attempt?: number; err_message?: string }).filter((l) => l.event?.startsWith('alert_delivery'));

beforeAll(async () => {
  port = await freePort(); // nothing listens here yet: connections are refused
  t = await createTestApp({
    env: { SMTP_URL: `smtp://127.0.0.1:${port}`, ALERT_EMAIL_TO: 'oncall@example.test', ALERT_DELIVERY_RETRY_MS: '300', ALERT_DELIVERY_ATTEMPTS: '6' },
    fastify: { logger: logs.logger },
  });
  await t.db.withSystem((tx) =>
    tx.execute(sql`insert into backups (id, status, engine, started_at, finished_at) values ('b-broken', 'failed', 'pglite', ${t.clock.now()}, ${t.clock.now()})`),
  );
});
afterAll(() => t.close());

it('retries and logs while the SMTP server is down, never blocking requests, and delivers once it is back', async () => {
  const started = performance.now();
  const notices = await t.app.alerting.manager.evaluate();
  expect(performance.now() - started).toBeLessThan(5000); // evaluation does not wait for delivery
  expect(notices.map((n) => `${n.kind} ${n.alert.rule}`)).toContain('firing backup_failed');
  const firing = await t.db.withSystem((tx) => tx.query(sql`select rule from alerts where status = 'firing'`));
  expect(firing.map((r) => r.rule)).toContain('backup_failed');

  // While deliveries fail and back off, the API answers normally and promptly.
  await waitFor(() => events().filter((e) => e.event === 'alert_delivery_retry').length >= 2, 10_000, 'two logged retries');
  for (let i = 0; i < 20; i++) {
    const before = performance.now();
    const res = await t.app.inject({ url: '/health/live' });
    expect(res.statusCode).toBe(200);
    expect(performance.now() - before).toBeLessThan(1000);
  }
  const retries = events().filter((e) => e.event === 'alert_delivery_retry');
  expect(retries[0]).toMatchObject({ channel: 'email', attempt: 1 });
  expect(retries[0]!.err_message).toMatch(/ECONNREFUSED|connect/i);

  // The server comes back on the same port: a later attempt delivers the message.
  const smtp = await startSmtp(port);
  try {
    await t.app.alerting.delivery.idle();
    expect(smtp.mails.map((m) => m.subject).filter((s) => s.includes('FIRING'))).toHaveLength(notices.length);
    expect(events().some((e) => e.event === 'alert_delivery_recovered')).toBe(true);
    expect(events().some((e) => e.event === 'alert_delivery_failed')).toBe(false);
  } finally {
    await smtp.close();
  }
});

it('gives up after the configured attempts with an error line, and the process carries on', async () => {
  const delivery = t.app.alerting.delivery;
  let calls = 0;
  delivery.enqueue({ channel: 'test' }, async () => {
    calls++;
    throw new Error('smtp://user:secret-password@mail.example.test refused');
  });
  await delivery.idle();
  expect(calls).toBe(6);
  const failed = events().filter((e) => e.event === 'alert_delivery_failed');
  expect(failed).toHaveLength(1);
  expect(failed[0]!.err_message).not.toContain('secret-password');
  expect((await t.app.inject({ url: '/health/live' })).statusCode).toBe(200);
}, 60_000);
