// Rate limiting on one instance with the memory store (§5.2): layered buckets, exact counts under
// concurrency, the 429 contract, RateLimit headers, exemptions, and the limiter running before auth.
// Each test uses its own client IP (documentation ranges), so tests never share a bucket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestContext } from '../helpers/app.js';

const ON = { RATE_LIMIT_ENABLED: 'true' };
const probeRoutes = (app: FastifyInstance) => {
  app.get('/rl-probe/public', { config: { public: true } }, async () => ({ ok: true }));
  app.get('/rl-probe/private', async (request) => ({ user: request.user.id }));
};

// A different email each time, so the per-email lockout (§5.1, also a 429) never answers instead.
let attempt = 0;
const login = (t: TestContext, ip: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { email: `nobody${++attempt}@example.test`, password: 'wrong-password-123' } });
const get = (t: TestContext, ip: string, url = '/rl-probe/public') => t.app.inject({ method: 'GET', url, remoteAddress: ip });
const limited = (r: LightMyRequestResponse) => r.statusCode === 429;

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: ON, extend: probeRoutes });
});
afterAll(() => t.close());

describe('rate limiting, memory store, one instance', () => {
  it('is on by default outside the test helper, with the §5.2 limits', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const c = loadConfig({});
    expect([c.RATE_LIMIT_ENABLED, c.RATE_LIMIT_WINDOW_SECONDS, c.RATE_LIMIT_GLOBAL_MAX, c.RATE_LIMIT_AUTH_MAX, c.RATE_LIMIT_UPLOAD_MAX]).toEqual([true, 60, 100, 10, 5]);
    expect(c.REDIS_URL).toBeUndefined();
    expect(t.app.rateLimit).toMatchObject({ enabled: true, store: 'memory' });
  });

  it('200 concurrent login attempts from one IP: exactly 10 are not 429', async () => {
    const responses = await Promise.all(Array.from({ length: 200 }, () => login(t, '198.51.100.1')));
    expect(responses.filter((r) => !limited(r))).toHaveLength(10);
    expect(responses.filter(limited)).toHaveLength(190);
    expect(new Set(responses.filter(limited).map((r) => r.json().bucket))).toEqual(new Set(['auth']));
  });

  it('the 101st request in a window on any route is 429 (404s count too)', async () => {
    const ip = '198.51.100.2';
    for (let i = 0; i < 100; i++) {
      const res = await get(t, ip, i % 2 ? '/rl-probe/public' : `/api/v1/no-such-route-${i}`);
      expect(res.statusCode, `request ${i + 1}`).toBe(i % 2 ? 200 : 404);
    }
    const over = await get(t, ip, '/rl-probe/public');
    expect(over.statusCode).toBe(429);
    expect(over.json().bucket).toBe('global');
    // Another client is unaffected.
    expect((await get(t, '198.51.100.3')).statusCode).toBe(200);
  });

  it('the 6th upload in a window is 429; other media requests only count globally', async () => {
    const ip = '198.51.100.4';
    const upload = () => t.app.inject({ method: 'POST', url: '/api/v1/media', remoteAddress: ip, payload: {} });
    for (let i = 0; i < 5; i++) expect((await upload()).statusCode).not.toBe(429);
    const sixth = await upload();
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().bucket).toBe('upload');
    expect(sixth.headers.ratelimit).toMatch(/^"upload";r=0;t=\d+$/);
    const list = await get(t, ip, '/api/v1/media');
    expect(list.statusCode).not.toBe(429);
    expect(list.headers['ratelimit-policy']).toBe('"global";q=100;w=60');
  });

  it('a login request also consumes one unit of the global bucket', async () => {
    const ip = '198.51.100.5';
    const first = await login(t, ip);
    expect(first.headers['ratelimit-policy']).toBe('"global";q=100;w=60, "auth";q=10;w=60');
    expect(first.headers.ratelimit).toMatch(/^"auth";r=9;t=(?:[3-5]\d|60)$/);
    const next = await get(t, ip);
    expect(next.headers['ratelimit-policy']).toBe('"global";q=100;w=60');
    expect(next.headers.ratelimit).toMatch(/^"global";r=98;t=(?:[3-5]\d|60)$/); // the login and this request
  });

  it('unknown /api/v1/auth/* paths share the auth bucket with the real ones', async () => {
    const ip = '198.51.100.6';
    for (let i = 0; i < 10; i++) {
      const res = await t.app.inject({ method: i % 2 ? 'GET' : 'POST', url: `/api/v1/auth/made-up-${i}?q=1`, remoteAddress: ip });
      expect(res.statusCode).not.toBe(429);
    }
    const res = await login(t, ip);
    expect(res.statusCode).toBe(429);
    expect(res.json().bucket).toBe('auth');
  });

  it('429: problem+json with Retry-After, RateLimit-Policy and RateLimit, exactly', async () => {
    const ip = '198.51.100.7';
    // Ten quick ones (400: no body, so no password hashing and the window barely moves), then a login.
    for (let i = 0; i < 10; i++) await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: {} });
    const res = await login(t, ip);
    expect(res.statusCode).toBe(429);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const t429 = Number(res.headers['retry-after']);
    expect(t429).toBeGreaterThanOrEqual(30); // the window opened during this test (a loaded machine is slow)
    expect(t429).toBeLessThanOrEqual(60);
    expect(res.headers['ratelimit-policy']).toBe('"global";q=100;w=60, "auth";q=10;w=60');
    expect(res.headers.ratelimit).toBe(`"auth";r=0;t=${t429}`);
    expect(res.json()).toEqual({
      type: 'urn:darezone:problem:rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `Rate limit "auth" exceeded (10 requests per 60 s); retry in ${t429} s`,
      instance: '/api/v1/auth/login',
      code: 'RATE_LIMITED',
      request_id: res.headers['x-request-id'],
      bucket: 'auth',
    });
    expect(t.app.rateLimit.stats.rejected.auth).toBeGreaterThan(0);
  });

  it('2xx and 401 responses of limited routes carry the headers too', async () => {
    const ip = '198.51.100.8';
    const ok = await get(t, ip);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['ratelimit-policy']).toBe('"global";q=100;w=60');
    expect(ok.headers.ratelimit).toMatch(/^"global";r=99;t=(?:[3-5]\d|60)$/);
    const denied = await get(t, ip, '/rl-probe/private');
    expect(denied.statusCode).toBe(401);
    expect(denied.headers.ratelimit).toMatch(/^"global";r=98;t=\d+$/);
  });

  it('runs before authentication: an unauthenticated flood gets 429, not 401, and then so does a request with a valid token', async () => {
    const ip = '198.51.100.9';
    const statuses = [];
    for (let i = 0; i < 101; i++) statuses.push((await get(t, ip, '/rl-probe/private')).statusCode);
    expect(statuses.slice(0, 100).every((s) => s === 401)).toBe(true);
    expect(statuses[100]).toBe(429);
    const user = await t.users.create();
    const withToken = await t.app.inject({ method: 'GET', url: '/rl-probe/private', remoteAddress: ip, headers: user.auth });
    expect(withToken.statusCode).toBe(429);
  });

  it('health probes are never limited: 1000 requests to /health/live from one IP all 200, without headers', async () => {
    const ip = '198.51.100.10';
    for (let batch = 0; batch < 10; batch++) {
      const responses = await Promise.all(Array.from({ length: 100 }, () => get(t, ip, '/health/live')));
      expect(responses.every((r) => r.statusCode === 200 && r.headers.ratelimit === undefined)).toBe(true);
    }
    for (const url of ['/health', '/health/ready']) expect((await get(t, ip, url)).headers.ratelimit).toBeUndefined();
    // ...and they used none of the client's global units.
    expect((await get(t, ip)).headers.ratelimit).toMatch(/^"global";r=99;/);
    // An unknown path that merely starts with /health is an ordinary 404 and counts.
    const unknown = await get(t, ip, '/health-check');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers.ratelimit).toMatch(/^"global";r=98;/);
  });
});

describe('windows', () => {
  let short: TestContext;
  beforeAll(async () => {
    short = await createTestApp({ env: { ...ON, RATE_LIMIT_WINDOW_SECONDS: '1' }, extend: probeRoutes });
  });
  afterAll(() => short.close());

  it('after the window passes requests are admitted again', async () => {
    const ip = '198.51.100.20';
    const burst = await Promise.all(Array.from({ length: 11 }, () => short.app.inject({ method: 'GET', url: '/api/v1/auth/unknown', remoteAddress: ip })));
    expect(burst.filter(limited)).toHaveLength(1);
    const rejected = burst.find(limited)!;
    expect(rejected.headers['retry-after']).toBe('1');
    expect(rejected.headers['ratelimit-policy']).toBe('"global";q=100;w=1, "auth";q=10;w=1');
    await new Promise((r) => setTimeout(r, 1100));
    const again = await short.app.inject({ method: 'GET', url: '/api/v1/auth/unknown', remoteAddress: ip });
    expect(again.statusCode).toBe(404);
    expect(again.headers.ratelimit).toBe('"auth";r=9;t=1');
  });
});

describe('RATE_LIMIT_ENABLED=false', () => {
  let off: TestContext;
  beforeAll(async () => {
    off = await createTestApp({ env: { RATE_LIMIT_ENABLED: 'false' } });
  });
  afterAll(() => off.close());

  it('adds no headers and rejects nothing', async () => {
    const responses = await Promise.all(Array.from({ length: 30 }, () => login(off, '198.51.100.30')));
    expect(responses.some(limited)).toBe(false);
    expect(responses[0]!.headers.ratelimit).toBeUndefined();
    expect(off.app.rateLimit).toMatchObject({ enabled: false, store: 'off' });
  });
});
