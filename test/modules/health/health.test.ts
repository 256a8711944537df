import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../../helpers/app.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('health', () => {
  it('live, ready and the uptime-monitor form answer without a token', async () => {
    const live = await t.app.inject({ url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });

    const ready = await t.app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', failing: [], checks: { database: { status: 'pass' }, migrations: { status: 'pass' } } });

    const health = await t.app.inject({ url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.body).toContain('"status":"ok"');
  });

  it('ready answers 503 naming the database when it is unreachable', async () => {
    const original = t.db.ping.bind(t.db);
    t.db.ping = () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'));
    try {
      const res = await t.app.inject({ url: '/health/ready' });
      expect(res.statusCode).toBe(503);
      const body = res.json();
      expect(body.failing).toContain('database');
      expect(body.checks.database).toMatchObject({ status: 'fail', error: 'unavailable' });
      expect(res.body).not.toMatch(/10\.0\.0\.5|hunter2/);
      expect((await t.app.inject({ url: '/health' })).body).not.toContain('"status":"ok"');
    } finally {
      t.db.ping = original;
    }
  });

  it('a hung database check is cut off by its time bound', async () => {
    const original = t.db.ping.bind(t.db);
    t.db.ping = () => new Promise(() => undefined);
    try {
      const started = Date.now();
      const res = await t.app.inject({ url: '/health/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json().checks.database.error).toBe('timed out');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      t.db.ping = original;
    }
  });

  it('ready turns 503 while draining', async () => {
    t.app.draining = true;
    try {
      const res = await t.app.inject({ url: '/health/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json().failing).toEqual(['shutdown']);
    } finally {
      t.app.draining = false;
    }
  });
});
