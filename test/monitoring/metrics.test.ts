// GET /metrics (§5.3): bearer METRICS_TOKEN, valid exposition, route templates (never ids), the
// sources wired (logins, jobs, backups, rate limiter, pool), exempt from rate limits, bounded size.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';
import { parseExposition } from './exposition.js';

const TOKEN = 'metrics-token-for-tests-0123456789';

describe('with METRICS_TOKEN', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(() => t.close());
  const scrape = (authorization?: string) => t.app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });

  it('answers 401 problem+json without a token and with a wrong one', async () => {
    for (const auth of [undefined, 'Bearer wrong-token-of-some-length-0000', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await scrape(auth);
      expect(res.statusCode, String(auth)).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      expect(res.body).not.toContain('http_requests_total');
    }
  });

  it('with the token: valid exposition with the request histogram labelled by route template, never an id', async () => {
    const user = await t.users.create();
    const id = randomUUID();
    expect((await t.app.inject({ url: `/api/v1/challenges/${id}`, headers: user.auth })).statusCode).toBe(404);
    await t.app.inject({ url: `/no-such-path/${id}` });

    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseExposition(res.body);
    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    expect(types.get('http_requests_total')).toBe('counter');
    const bucket = samples.find(
      (s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.route === '/api/v1/challenges/:id' && s.labels.method === 'GET' && s.labels.status === '404',
    );
    expect(bucket).toBeDefined();
    expect(samples.find((s) => s.name === 'http_requests_total' && s.labels.route === 'not_found')?.value).toBe(1);
    expect(res.body).not.toContain(id);
    // Node process, GC and event-loop lag from collectDefaultMetrics on the app's own registry.
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(samples.some((s) => s.name === name), name).toBe(true);
    }
    expect(types.get('nodejs_gc_duration_seconds')).toBe('histogram');
  });

  it('counts login failures and lockouts, job runs, backups, pool use and firing alerts', async () => {
    const user = await t.users.create();
    for (let i = 0; i < 6; i++) {
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.email, password: `${TEST_PASSWORD}-wrong` } });
    }
    const run = await t.app.scheduler.trigger('notifications.cleanup');
    expect((await run.done).status).toBe('success');
    const finished = new Date('2026-06-14T02:10:00Z');
    await t.db.withSystem(async (tx) => {
      await tx.execute(sql`insert into backups (id, status, engine, size_bytes, started_at, finished_at, verified_at, verify_status)
        values ('b-metrics', 'completed', 'pglite', 123456, ${finished}, ${finished}, ${finished}, 'passed')`);
      await tx.execute(sql`insert into alerts (rule, severity, message) values ('disk_space', 'critical', 'test')`);
    });

    const { samples } = parseExposition((await scrape(`Bearer ${TOKEN}`)).body);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('darezone_login_failures_total')).toBe(5);
    expect(value('darezone_login_lockouts_total')).toBe(1);
    expect(value('darezone_job_runs_total', { job: 'notifications.cleanup', status: 'success' })).toBe(1);
    expect(value('darezone_job_duration_seconds_count', { job: 'notifications.cleanup', status: 'success' })).toBe(1);
    expect(value('darezone_backup_last_success_timestamp_seconds')).toBe(finished.getTime() / 1000);
    expect(value('darezone_backup_last_verified_timestamp_seconds')).toBe(finished.getTime() / 1000);
    expect(value('darezone_backup_last_size_bytes')).toBe(123456);
    expect(value('darezone_alerts_firing', { rule: 'disk_space', severity: 'critical' })).toBe(1);
    expect(value('darezone_db_pool_max_connections')).toBeGreaterThanOrEqual(1);
    expect(value('darezone_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
    expect(value('darezone_rate_limit_rejections_total', { bucket: 'auth' })).toBe(0);
  });
});

describe('without METRICS_TOKEN', () => {
  it('development/test: loopback peers only', async () => {
    const t = await createTestApp();
    try {
      expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(200);
      expect((await t.app.inject({ url: '/metrics', remoteAddress: '::1' })).statusCode).toBe(200);
      const remote = await t.app.inject({ url: '/metrics', remoteAddress: '203.0.113.7' });
      expect(remote.statusCode).toBe(401);
      expect(remote.json().code).toBe('UNAUTHENTICATED');
    } finally {
      await t.close();
    }
  });

  it('production: /metrics does not exist (404)', async () => {
    const t = await createTestApp({ env: { APP_ENV: 'production', JWT_SECRET: 'p'.repeat(48), MEDIA_SIGNING_KEY: 'm'.repeat(40) } });
    try {
      // Not registered at all, so it is whatever any unknown path is (404 behind the HTTPS redirect).
      expect(t.app.hasRoute({ method: 'GET', url: '/metrics' })).toBe(false);
      expect(t.app.hasRoute({ method: 'GET', url: '/health/live' })).toBe(true);
    } finally {
      await t.close();
    }
  });
});

it('is exempt from rate limits', async () => {
  const t = await createTestApp({ env: { METRICS_TOKEN: TOKEN, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_GLOBAL_MAX: '2' } });
  try {
    for (let i = 0; i < 10; i++) {
      const res = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.statusCode).toBe(200);
      expect(res.headers.ratelimit).toBeUndefined();
    }
    const limited = [];
    for (let i = 0; i < 4; i++) limited.push((await t.app.inject({ url: '/api/v1/nothing-here' })).statusCode);
    expect(limited).toContain(429);
    const { samples } = parseExposition((await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body);
    expect(samples.find((s) => s.name === 'darezone_rate_limit_rejections_total' && s.labels.bucket === 'global')?.value).toBe(2);
  } finally {
    await t.close();
  }
});

it('cardinality is bounded: 10k requests to 1k distinct ids keep a scrape under 100 KB', async () => {
  const t = await createTestApp({ env: { METRICS_TOKEN: TOKEN, RATE_LIMIT_ENABLED: 'false' } });
  try {
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const started = performance.now();
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => {
          const id = ids[(batch * 100 + i) % ids.length]!;
          // Unauthenticated (401) and unknown (404) paths: the route label must stay a template or not_found.
          return t.app.inject({ url: i % 2 === 0 ? `/api/v1/challenges/${id}` : `/api/v1/unknown/${id}` });
        }),
      );
    }
    const elapsed = performance.now() - started;
    const res = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    const size = Buffer.byteLength(res.body);
    console.log(`scrape after 10k requests to 1k ids: ${(size / 1024).toFixed(1)} KB; 10k injects took ${Math.round(elapsed)} ms`);
    expect(size).toBeLessThan(100 * 1024);
    const { samples } = parseExposition(res.body);
    const total = samples.filter((s) => s.name === 'http_requests_total').reduce((n, s) => n + (s.labels.route === '/metrics' ? 0 : s.value), 0);
    expect(total).toBe(10_000);
    for (const id of ids.slice(0, 50)) expect(res.body).not.toContain(id);
  } finally {
    await t.close();
  }
}, 120_000);
