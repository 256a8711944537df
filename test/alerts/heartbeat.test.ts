// The dead man's switch (§5.3): HEARTBEAT_URL is fetched after each successful daily
// challenges.auto_complete run, and only then; the alert configuration is validated at start-up.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config.js';
import { HEARTBEAT_JOB } from '../../src/alerts/plugin.js';
import { createTestApp, type TestContext } from '../helpers/app.js';

let server: Server;
const pings: string[] = [];
let t: TestContext;

beforeAll(async () => {
  server = createServer((req, res) => {
    pings.push(`${req.method} ${req.url}`);
    res.writeHead(200).end('OK');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t = await createTestApp({ env: { HEARTBEAT_URL: `http://127.0.0.1:${port}/ping/abc123` } });
});
afterAll(async () => {
  await t.close();
  await new Promise((resolve) => server.close(resolve));
});

it('pings after a successful daily job run, not after other jobs or a failed run', async () => {
  expect(HEARTBEAT_JOB).toBe('challenges.auto_complete');
  await (await t.app.scheduler.trigger('notifications.cleanup')).done;
  await t.app.alerting.delivery.idle();
  expect(pings).toEqual([]);

  const ok = await (await t.app.scheduler.trigger(HEARTBEAT_JOB)).done;
  expect(ok.status).toBe('success');
  await t.app.alerting.delivery.idle();
  expect(pings).toEqual(['GET /ping/abc123']);

  const def = t.app.scheduler.get(HEARTBEAT_JOB)!;
  const original = { ...def };
  def.run = async () => {
    throw new Error('broken');
  };
  def.retries = { attempts: 1, delayMs: 0 };
  try {
    expect((await (await t.app.scheduler.trigger(HEARTBEAT_JOB)).done).status).toBe('failed');
  } finally {
    Object.assign(def, original);
  }
  await t.app.alerting.delivery.idle();
  expect(pings).toHaveLength(1);
});

it('alert e-mail needs both a server and recipients; URLs are validated', () => {
  expect(() => loadConfig({ SMTP_URL: 'smtp://mail.example.test:587' })).toThrow(ConfigError);
  expect(() => loadConfig({ ALERT_EMAIL_TO: 'oncall@example.test' })).toThrow(/SMTP_URL/);
  expect(() => loadConfig({ SLACK_WEBHOOK_URL: 'not a url' })).toThrow(/SLACK_WEBHOOK_URL/);
  expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  const c = loadConfig({ SMTP_URL: 'smtp://mail.example.test:587', ALERT_EMAIL_TO: 'oncall@example.test' });
  expect(c).toMatchObject({ smtpConfigured: true, alertsEnabled: true, ALERT_REMINDER_HOURS: 4, ALERT_HTTP_5XX_PERCENT: 2 });
  expect(loadConfig({ APP_ENV: 'test' }).alertsEnabled).toBe(false);
  expect(loadConfig({ APP_ENV: 'test', ALERTS_ENABLED: 'true' }).alertsEnabled).toBe(true);
  expect(loadConfig({ ALERTS_ENABLED: 'false' }).alertsEnabled).toBe(false);
});
