// The Redis store in-process (§5.2): two app instances sharing the machine's Redis enforce one limit,
// counts are atomic under concurrency, windows expire in Redis, and close() releases the connection.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { createTestApp, type TestContext } from '../helpers/app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `dz-test:rl:${randomUUID()}`;
const probe = (app: FastifyInstance) => {
  app.get('/rl-probe/public', { config: { public: true } }, async () => ({ ok: true }));
};
// Exactness is about atomic counting, so these tests give Redis a deadline no loaded test machine
// misses (a miss falls back to per-instance counting: test/services/rate-limit-redis-outage.test.ts),
// and check that no decision fell back.
const env = (extra: Record<string, string> = {}) => ({
  RATE_LIMIT_ENABLED: 'true',
  REDIS_URL,
  RATE_LIMIT_KEY_PREFIX: prefix,
  RATE_LIMIT_REDIS_TIMEOUT_MS: '1000',
  ...extra,
});
const login = (t: TestContext, ip: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: {} });

let a: TestContext;
let b: TestContext;
let redis: Redis;
beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  [a, b] = await Promise.all([createTestApp({ env: env(), extend: probe }), createTestApp({ env: env(), extend: probe })]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('rate limiting, Redis store', () => {
  it('uses Redis when REDIS_URL is set, connected before the first request', () => {
    expect(a.app.rateLimit.store).toBe('redis');
    expect(a.app.rateLimit.redis?.status).toBe('ready');
  });

  it('200 concurrent login attempts from one IP over two instances: exactly 10 admitted, and Redis holds the count', async () => {
    const ip = '198.51.100.1';
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => login(i % 2 ? a : b, ip)));
    expect(responses.filter((r) => r.statusCode !== 429)).toHaveLength(10);
    expect(await redis.get(`${prefix}:auth:${ip}`)).toBe('200');
    expect(await redis.get(`${prefix}:global:${ip}`)).toBe('200');
    for (const t of [a, b]) expect(t.app.rateLimit.stats.storeFallbacks).toEqual({ global: 0, auth: 0, upload: 0 });
  });

  it('the global limit is one limit across instances', async () => {
    const ip = '198.51.100.2';
    for (let i = 0; i < 100; i++) expect((await (i % 2 ? a : b).app.inject({ url: '/rl-probe/public', remoteAddress: ip })).statusCode).toBe(200);
    const over = await a.app.inject({ url: '/rl-probe/public', remoteAddress: ip });
    expect(over.statusCode).toBe(429);
    expect(over.headers.ratelimit).toMatch(/^"global";r=0;t=(?:[3-5]\d|60)$/);
    expect(over.headers['retry-after']).toBe(over.headers.ratelimit!.toString().split('t=')[1]);
    expect(a.app.rateLimit.stats.storeFallbacks).toEqual({ global: 0, auth: 0, upload: 0 });
  });

  it('IPv6 clients are keyed by /64 in Redis too', async () => {
    await login(a, '2001:db8:5:6::1');
    await login(b, '2001:db8:5:6:ffff::2');
    expect(await redis.get(`${prefix}:auth:2001:db8:5:6::/64`)).toBe('2');
  });

  it('windows expire in Redis', async () => {
    const short = await createTestApp({ env: env({ RATE_LIMIT_WINDOW_SECONDS: '1', RATE_LIMIT_KEY_PREFIX: `${prefix}:short` }) });
    try {
      const ip = '198.51.100.3';
      const burst = await Promise.all(Array.from({ length: 11 }, () => login(short, ip)));
      expect(burst.filter((r) => r.statusCode === 429)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 1100));
      const again = await login(short, ip);
      expect(again.statusCode).not.toBe(429);
      expect(again.headers.ratelimit).toBe('"auth";r=9;t=1');
    } finally {
      await short.close();
    }
  });

  it('closing the app closes its Redis connection', async () => {
    const c = await createTestApp({ env: env() });
    const connection = c.app.rateLimit.redis!;
    expect(connection.status).toBe('ready');
    await c.close();
    expect(connection.status).toBe('end');
  });
});
