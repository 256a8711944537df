// Alerts end to end (§5.3) with a real SMTP server and a local Slack-webhook receiver: a 5xx burst
// fires once (one e-mail, one Slack post), nothing more until the 4-hour reminder, one reminder,
// then one "resolved" each. Backups (failed, stale, unverified), jobs (warning, then critical at 3
// in a row), disk space and readiness fire their alerts too. The clock is the test clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/database.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { TestClock } from '../helpers/clock.js';
import { startSmtp, startWebhook } from './receivers.js';

const HOUR = 3_600_000;
const RUNBOOK = 'https://runbooks.example.test/INCIDENT_RESPONSE.md';

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let slack: Awaited<ReturnType<typeof startWebhook>>;
beforeAll(async () => {
  smtp = await startSmtp();
  slack = await startWebhook();
});
afterAll(async () => {
  await smtp.close();
  await slack.close();
});

/** A healthy backup history at `at`: completed and verified. */
async function goodBackup(db: Database, id: string, at: Date) {
  await db.withSystem((tx) =>
    tx.execute(sql`insert into backups (id, status, engine, size_bytes, started_at, finished_at, verified_at, verify_status)
      values (${id}, 'completed', 'pglite', 1000, ${at}, ${at}, ${at}, 'passed')`),
  );
}

async function alertApp(env: Record<string, string> = {}) {
  const clock = new TestClock('2026-06-15T12:00:00Z');
  const t = await createTestApp({
    clock,
    env: {
      SMTP_URL: smtp.url,
      ALERT_EMAIL_TO: 'oncall@example.test,backup-oncall@example.test',
      ALERT_EMAIL_FROM: 'DareZone alerts <alerts@darezone.test>',
      SLACK_WEBHOOK_URL: slack.url,
      RUNBOOK_BASE_URL: RUNBOOK,
      ALERT_DELIVERY_RETRY_MS: '20',
      ALERT_HTTP_P95_MS: '60000', // latency is not what these tests are about (a busy CI machine is slow)
      ...env,
    },
    extend: (app) => {
      app.get('/test/boom', { config: { public: true } }, async () => {
        throw new Error('boom');
      });
      app.get('/test/fine', { config: { public: true } }, async () => ({ ok: true }));
    },
  });
  await goodBackup(t.db, 'b-initial', new Date(clock.now().getTime() - HOUR));
  smtp.mails.length = 0;
  slack.posts.length = 0;
  const evaluate = async () => {
    const notices = await t.app.alerting.manager.evaluate();
    await t.app.alerting.delivery.idle();
    return notices.map((n) => `${n.kind} ${n.alert.rule} ${n.alert.severity}`);
  };
  return { t, clock, evaluate };
}

async function traffic(t: TestContext, failing: number, fine: number) {
  for (let i = 0; i < failing; i++) await t.app.inject({ url: '/test/boom' });
  for (let i = 0; i < fine; i++) await t.app.inject({ url: '/test/fine' });
}

describe('a 5xx burst', () => {
  let ctx: Awaited<ReturnType<typeof alertApp>>;
  beforeAll(async () => {
    ctx = await alertApp();
  });
  afterAll(() => ctx.t.close());

  it('fires once, reminds after 4 h, resolves once; each message says what, since when, value vs threshold and links the runbook', async () => {
    const { t, clock, evaluate } = ctx;
    const firedAt = clock.now();
    expect(await evaluate()).toEqual([]); // quiet before the burst
    await traffic(t, 10, 40); // 20 % of 50 requests
    expect(await evaluate()).toEqual(['firing http_5xx_ratio critical']);
    expect(smtp.mails).toHaveLength(1);
    expect(slack.posts).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['oncall@example.test', 'backup-oncall@example.test']);
    expect(mail.from).toBe('alerts@darezone.test');
    expect(mail.subject).toContain('[FIRING critical] DareZone: 5xx error ratio above threshold');
    for (const text of [mail.raw, slack.posts[0]!.text]) {
      expect(text).toContain('20 % of 50 requests answered 5xx');
      expect(text).toContain(`Since ${firedAt.toISOString()}`);
      expect(text).toContain('Value: 20 % (threshold 2 %)');
      expect(text).toContain(`Runbook: ${RUNBOOK}#alert-http-5xx-ratio`);
    }

    // Still failing: no repeat before 4 h.
    expect(await evaluate()).toEqual([]);
    clock.advance(2 * HOUR);
    await traffic(t, 10, 40);
    expect(await evaluate()).toEqual([]);
    clock.advance(2 * HOUR - 60_000);
    await traffic(t, 10, 40);
    expect(await evaluate()).toEqual([]);
    expect(smtp.mails).toHaveLength(1);

    // 4 h after the first message: one reminder.
    clock.advance(60_000);
    await traffic(t, 10, 40);
    expect(await evaluate()).toEqual(['reminder http_5xx_ratio critical']);
    expect(await evaluate()).toEqual([]);
    expect(smtp.mails).toHaveLength(2);
    expect(slack.posts).toHaveLength(2);
    expect(smtp.mails[1]!.subject).toContain('[STILL FIRING critical]');
    expect(smtp.mails[1]!.raw).toContain(`Since ${firedAt.toISOString()} (4 h)`);

    // Recovery: the window (5 min) holds only healthy traffic.
    clock.advance(10 * 60_000);
    await traffic(t, 0, 60);
    expect(await evaluate()).toEqual(['resolved http_5xx_ratio critical']);
    expect(await evaluate()).toEqual([]);
    expect(smtp.mails).toHaveLength(3);
    expect(slack.posts).toHaveLength(3);
    expect(smtp.mails[2]!.subject).toContain('[RESOLVED] DareZone: 5xx error ratio above threshold');
    expect(slack.posts[2]!.text).toContain('after 4 h 10 min');
  });

  it('the history is in the table and at GET /api/v1/admin/alerts', async () => {
    const { t } = ctx;
    const admin = await t.users.create({ role: 'admin' });
    const res = await t.app.inject({ url: '/api/v1/admin/alerts?status=resolved', headers: admin.auth });
    expect(res.statusCode).toBe(200);
    const { items } = res.json<{ items: Record<string, unknown>[] }>();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ rule: 'http_5xx_ratio', status: 'resolved', severity: 'critical', threshold: 2, runbook: `${RUNBOOK}#alert-http-5xx-ratio` });
    expect(items[0]!.details).not.toHaveProperty('breaching');
    expect((await t.app.inject({ url: '/api/v1/admin/alerts?status=firing', headers: admin.auth })).json().items).toEqual([]);
  });
});

describe('backups', () => {
  let ctx: Awaited<ReturnType<typeof alertApp>>;
  beforeAll(async () => {
    ctx = await alertApp();
  });
  afterAll(() => ctx.t.close());

  it('a failed backup fires "backup_failed"; the next good one resolves it', async () => {
    const { t, clock, evaluate } = ctx;
    await t.db.withSystem((tx) =>
      tx.execute(sql`insert into backups (id, status, engine, error, started_at, finished_at)
        values ('b-failed', 'failed', 'pglite', 'pg_dump: disk full', ${clock.now()}, ${clock.now()})`),
    );
    expect(await evaluate()).toEqual(['firing backup_failed critical']);
    expect(smtp.mails.at(-1)!.subject).toContain('A backup or restore drill failed');
    expect(smtp.mails.at(-1)!.raw).toContain('backup b-failed failed: pg_dump: disk full');
    expect(slack.posts.at(-1)!.text).toContain('#alert-backup-failed');
    clock.advance(60_000);
    await goodBackup(t.db, 'b-after', clock.now());
    expect(await evaluate()).toEqual(['resolved backup_failed critical']);
  });

  it('a failed restore drill fires "backup_failed" too', async () => {
    const { t, clock, evaluate } = ctx;
    clock.advance(60_000);
    await t.db.withSystem((tx) => tx.execute(sql`update backups set verified_at = ${clock.now()}, verify_status = 'failed', verify_error = 'row counts differ' where id = 'b-after'`));
    expect(await evaluate()).toEqual(['firing backup_failed critical']);
    expect(smtp.mails.at(-1)!.raw).toContain('restore drill of backup b-after failed: row counts differ');
  });

  it('no successful backup in 26 h fires "backup_missing"; no verified one in 8 days fires "backup_unverified"', async () => {
    const { clock, evaluate } = ctx;
    const lastSuccess = clock.now().getTime() - 60_000; // b-after, one minute ago
    const about = (rule: string) => async () => (await evaluate()).filter((n) => n.includes(` ${rule} `));
    clock.set(new Date(lastSuccess + 26 * HOUR - 60_000));
    expect(await about('backup_missing')()).toEqual([]);
    clock.advance(2 * 60_000);
    expect(await about('backup_missing')()).toEqual(['firing backup_missing critical']);
    const mail = smtp.mails.at(-1)!;
    expect(mail.subject).toContain('[FIRING critical] DareZone: No successful backup recently');
    expect(mail.raw).toContain('(threshold 26 h)');
    expect(mail.raw).toContain('#alert-backup-missing');
    // The newest passed drill is b-initial's, 1 h before the start.
    clock.set(new Date(Date.parse('2026-06-15T11:00:00Z') + 8 * 24 * HOUR - 60_000));
    expect(await about('backup_unverified')()).toEqual([]);
    clock.advance(2 * 60_000);
    expect(await about('backup_unverified')()).toEqual(['firing backup_unverified warning']);
    expect(smtp.mails.at(-1)!.raw).toContain('(threshold 8 days)');
  });
});

describe('jobs, disk and readiness', () => {
  let ctx: Awaited<ReturnType<typeof alertApp>>;
  beforeAll(async () => {
    ctx = await alertApp({ ALERT_DISK_FREE_PERCENT: '100' });
  });
  afterAll(() => ctx.t.close());

  async function jobRun(status: string, at: Date) {
    await ctx.t.db.withSystem((tx) =>
      tx.execute(sql`insert into job_runs (job, scheduled_for, started_at, finished_at, status, duration_ms, error)
        values ('stats.refresh', ${at}, ${at}, ${at}, ${status}, 5, ${status === 'success' ? null : 'Error: boom'})`),
    );
  }

  it('a job failure warns, 3 in a row escalates to critical (one more message), a success resolves', async () => {
    const { clock, evaluate } = ctx;
    const fired = await evaluate(); // disk: every file system has less than 100 % free
    expect(fired).toEqual(['firing disk_space critical']);
    expect(smtp.mails.at(-1)!.raw).toContain('#alert-disk-space');

    await jobRun('success', new Date(clock.now().getTime() - 3 * HOUR));
    await jobRun('failed', new Date(clock.now().getTime() - 2 * HOUR));
    expect(await evaluate()).toEqual(['firing job_failed:stats.refresh warning']);
    expect(smtp.mails.at(-1)!.subject).toContain('[FIRING warning] DareZone: A scheduled job failed (stats.refresh)');
    await jobRun('timed_out', new Date(clock.now().getTime() - HOUR));
    expect(await evaluate()).toEqual([]);
    clock.advance(60_000);
    await jobRun('failed', clock.now());
    expect(await evaluate()).toEqual(['escalated job_failed:stats.refresh critical']);
    expect(smtp.mails.at(-1)!.subject).toContain('[ESCALATED critical]');
    expect(smtp.mails.at(-1)!.raw).toContain('3 or more runs in a row');
    clock.advance(60_000);
    await jobRun('success', clock.now());
    expect(await evaluate()).toEqual(['resolved job_failed:stats.refresh critical']);
  });

  it('failing readiness fires; draining alone does not', async () => {
    const { t, evaluate } = ctx;
    t.app.draining = true;
    try {
      expect(await evaluate()).toEqual([]);
    } finally {
      t.app.draining = false;
    }
    const original = t.db.ping.bind(t.db);
    t.db.ping = () => Promise.reject(new Error('down'));
    try {
      expect(await evaluate()).toEqual(['firing readiness critical']);
      expect(smtp.mails.at(-1)!.raw).toContain('readiness failing: database');
    } finally {
      t.db.ping = original;
    }
    expect(await evaluate()).toEqual(['resolved readiness critical']);
  });
});
