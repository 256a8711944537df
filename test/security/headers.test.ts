// §5.1 Headers, XSS/content sniffing (headers part), CORS and Transport. Every route of the route
// table is called and every answer — 200, 401, 404, 405/415, 429, 500, redirects, preflights —
// must carry the security header set; /docs keeps its own tight CSP; HSTS only in production.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CSP, HSTS } from '../../src/plugins/security-headers.js';
import { CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS } from '../../src/plugins/security-cors.js';
import { createSecurityApp, fillPath, hasBody, label, type SecurityApp } from './helpers.js';
import { uploadPhoto } from './world.js';

const BASE = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-xss-protection': '0',
};
type Res = { statusCode: number; headers: Record<string, unknown>; body: string };

/** The headers every response must carry; `docs` responses have their own CSP (checked separately). */
function securityHeaderProblems(what: string, res: Res, opts: { production?: boolean; docs?: boolean } = {}): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(BASE)) if (res.headers[name] !== value) problems.push(`${what}: ${name}=${String(res.headers[name])}`);
  const csp = String(res.headers['content-security-policy']);
  if (!opts.docs && csp !== API_CSP && !csp.startsWith("default-src 'none'")) problems.push(`${what}: CSP ${csp}`);
  if (opts.docs && !/default-src 'none'/.test(csp)) problems.push(`${what}: docs CSP ${csp}`);
  if (!res.headers['cross-origin-resource-policy']) problems.push(`${what}: no CORP`);
  const hsts = res.headers['strict-transport-security'];
  if (opts.production ? hsts !== HSTS : hsts !== undefined) problems.push(`${what}: HSTS ${String(hsts)}`);
  for (const banner of ['x-powered-by', 'server']) if (res.headers[banner] !== undefined) problems.push(`${what}: ${banner} banner`);
  if (!res.headers['x-request-id']) problems.push(`${what}: no x-request-id`);
  return problems;
}

describe('security headers on every response', () => {
  let t: SecurityApp;
  beforeAll(async () => {
    t = await createSecurityApp({
      extend: (app) => {
        app.get('/test/boom', () => {
          throw new Error('internal detail that must not leak');
        });
      },
    });
  });
  afterAll(async () => {
    t.expectNoSecretsLogged();
    await t.close();
  });

  it('every route in the table, anonymous and authenticated (200, 401, 4xx): the full header set', async () => {
    const user = await t.createUser();
    const problems: string[] = [];
    let calls = 0;
    for (const r of t.routes) {
      for (const headers of [{}, user.auth]) {
        const res = await t.app.inject({ method: r.method, url: fillPath(r.url), headers, ...(hasBody(r.method) ? { payload: {} } : {}) });
        calls++;
        problems.push(...securityHeaderProblems(`${label(r)} → ${res.statusCode}`, res, { docs: r.url.startsWith('/docs') }));
      }
    }
    expect(calls).toBeGreaterThan(60);
    expect(problems).toEqual([]);
  });

  it('API responses: CSP default-src none + frame-ancestors none, CORP same-origin, no-store', async () => {
    for (const url of ['/health/live', '/api/v1/users/me', '/no/such/route']) {
      const res = await t.app.inject({ url });
      expect(res.headers['content-security-policy']).toBe(API_CSP);
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('404, 405-ish, 415, 413 and 500 problem responses carry the headers; a 500 leaks nothing', async () => {
    const user = await t.createUser();
    const cases: [string, InjectOptions][] = [
      ['404', { url: '/nope' }],
      ['401', { url: '/api/v1/users/me' }],
      ['415', { method: 'POST', url: '/api/v1/habits', headers: { ...user.auth, 'content-type': 'text/plain' }, payload: 'x' }],
      ['413', { method: 'POST', url: '/api/v1/habits', headers: user.auth, payload: { name: 'x'.repeat(2 * 1024 * 1024) } }],
      ['500', { url: '/test/boom', headers: user.auth }],
      ['bad JSON', { method: 'POST', url: '/api/v1/habits', headers: { ...user.auth, 'content-type': 'application/json' }, payload: '{"name":' }],
    ];
    const problems: string[] = [];
    for (const [name, req] of cases) {
      const res = await t.app.inject(req);
      problems.push(...securityHeaderProblems(`${name} → ${res.statusCode}`, res));
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      if (name === '500') {
        expect(res.statusCode).toBe(500);
        expect(res.body).not.toContain('internal detail');
        expect(res.body).not.toMatch(/at .*\.ts|node_modules|\/work\//);
      }
    }
    expect(problems).toEqual([]);
  });

  it('/docs keeps its own tight CSP (no inline script) and is the only text/html answer', async () => {
    let res = await t.app.inject({ url: '/docs' });
    for (let hops = 0; hops < 3 && res.statusCode >= 300 && res.statusCode < 400; hops++) {
      const next = new URL(String(res.headers.location), 'http://localhost/docs/');
      res = await t.app.inject({ url: next.pathname });
    }
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/); // no 'unsafe-inline', no 'unsafe-eval' for scripts
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(securityHeaderProblems('docs', res, { docs: true })).toEqual([]);
  });

  it('over real HTTP: no Server or X-Powered-By banner, headers on a raw 404 and on a malformed URL', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const get = (path: string) =>
      new Promise<Res>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body }));
          })
          .on('error', reject);
      });
    for (const path of ['/health/live', '/nope', '/api/v1/users/%E0%A4%A', `/api/v1/users/${'a'.repeat(300)}`]) {
      const res = await get(path);
      expect(res.headers.server, path).toBeUndefined();
      expect(res.headers['x-powered-by'], path).toBeUndefined();
      expect(securityHeaderProblems(`${path.slice(0, 40)} → ${res.statusCode}`, res)).toEqual([]);
      expect(res.headers['content-type']).toMatch(/^application\/(problem\+)?json; charset=utf-8$/);
    }
  });
});

describe('signed media bytes (when the media module is present)', () => {
  it('served with their own sandbox CSP and nosniff, and embeddable cross-origin (CORP cross-origin)', async () => {
    const t = await createSecurityApp();
    try {
      if (!t.routes.some((r) => r.url === '/media/files/:id')) return;
      const owner = await t.createUser();
      const id = await uploadPhoto(t, owner);
      const meta = await t.app.inject({ url: `/api/v1/media/${id}`, headers: owner.auth });
      expect(meta.headers['cross-origin-resource-policy']).toBe('same-origin');
      const res = await t.app.inject({ url: meta.json<{ url: string }>().url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^image\//);
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
      expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
      expect(securityHeaderProblems('media bytes', res)).toEqual([]);
      const forged = await t.app.inject({ url: `/media/files/${id}?expires=9999999999&sig=forged` });
      expect(forged.statusCode).toBe(403);
      expect(forged.headers['content-security-policy']).toBe(API_CSP);
    } finally {
      await t.close();
    }
  });
});

describe('a 429 and a 308 carry the headers too; HSTS in production only', () => {
  it('preflights count against the rate limit like any request (the limiter runs first)', async () => {
    const t = await createSecurityApp({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_GLOBAL_MAX: '2', CORS_ORIGINS: 'https://dash.darezone.test' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await t.app.inject({
          method: 'OPTIONS',
          url: '/api/v1/users/me',
          headers: { origin: 'https://dash.darezone.test', 'access-control-request-method': 'GET' },
        });
        statuses.push(res.statusCode);
        expect(res.headers['access-control-allow-origin']).toBe('https://dash.darezone.test'); // a dashboard can read the 429 too
      }
      expect(statuses).toEqual([204, 204, 429]);
    } finally {
      await t.close();
    }
  });

  it('rate-limited 429', async () => {
    const t = await createSecurityApp({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_GLOBAL_MAX: '2' } });
    try {
      let res: Res | undefined;
      for (let i = 0; i < 3; i++) res = await t.app.inject({ url: '/api/v1/users/me' });
      expect(res!.statusCode).toBe(429);
      expect(securityHeaderProblems('429', res!)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('production: HSTS on every answer (also the HTTPS redirect and health probes)', async () => {
    const t = await createSecurityApp({ env: PRODUCTION_ENV });
    try {
      const https = { host: 'api.darezone.test', 'x-forwarded-proto': 'https' };
      const cases: [string, InjectOptions][] = [
        ['401', { url: '/api/v1/users/me', headers: https }],
        ['404', { url: '/nope', headers: https }],
        ['308', { url: '/api/v1/users/me', headers: { ...https, 'x-forwarded-proto': 'http' } }],
        ['health', { url: '/health/live', headers: { host: '10.0.0.7:3000' } }],
      ];
      const problems: string[] = [];
      for (const [name, req] of cases) {
        const res = await t.app.inject(req);
        problems.push(...securityHeaderProblems(`${name} → ${res.statusCode}`, res, { production: true }));
      }
      expect(problems).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

// Production with a trusted proxy at 127.0.0.1 (where inject's requests come from).
const PRODUCTION_ENV = {
  APP_ENV: 'production',
  JWT_SECRET: 'a-production-like-jwt-secret-for-the-security-suite-0123',
  ALLOWED_HOSTS: 'api.darezone.test,API2.darezone.test',
  TRUST_PROXY: '127.0.0.1',
  MEDIA_SIGNING_KEY: 'media-signing-key-for-the-security-suite-0123456789',
};

describe('transport: HTTPS redirect and Host allowlist (production)', () => {
  let t: SecurityApp;
  beforeAll(async () => {
    t = await createSecurityApp({ env: PRODUCTION_ENV });
  });
  afterAll(() => t.close());

  it('plain HTTP (per the trusted proxy) is redirected 308 to the same URL on https, method kept', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await t.app.inject({
        method,
        url: '/api/v1/users/search?q=ab&limit=5',
        headers: { host: 'api.darezone.test', 'x-forwarded-proto': 'http' },
      });
      expect(res.statusCode).toBe(308);
      expect(res.headers.location).toBe('https://api.darezone.test/api/v1/users/search?q=ab&limit=5');
    }
  });

  it('HTTPS per the trusted proxy is served (here: 401 without a token)', async () => {
    const res = await t.app.inject({ url: '/api/v1/users/me', headers: { host: 'api.darezone.test', 'x-forwarded-proto': 'https' } });
    expect(res.statusCode).toBe(401);
  });

  it('X-Forwarded-Proto/Host from a peer outside TRUST_PROXY are not believed', async () => {
    const res = await t.app.inject({
      url: '/api/v1/users/me',
      remoteAddress: '203.0.113.9',
      headers: { host: 'api.darezone.test', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
    });
    expect(res.statusCode).toBe(308); // the socket is plain HTTP, whatever the header claims
    expect(res.headers.location).toBe('https://api.darezone.test/api/v1/users/me');
  });

  it('a Host outside ALLOWED_HOSTS is refused with 400 problem+json (also via a trusted X-Forwarded-Host), case-insensitively matched', async () => {
    for (const headers of [
      { host: 'evil.example', 'x-forwarded-proto': 'https' },
      { host: 'evil.example', 'x-forwarded-proto': 'http' }, // refused before any redirect to it
      { host: 'api.darezone.test', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      { host: 'api.darezone.test.evil.example', 'x-forwarded-proto': 'https' },
    ]) {
      const res = await t.app.inject({ url: '/api/v1/users/me', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body).not.toContain('evil.example');
    }
    const ok = await t.app.inject({ url: '/api/v1/users/me', headers: { host: 'Api2.DareZone.test:443', 'x-forwarded-proto': 'https' } });
    expect(ok.statusCode).toBe(401);
  });

  it('health probes over plain HTTP with an internal Host still answer (exempt from both checks)', async () => {
    for (const url of ['/health', '/health/live', '/health/ready']) {
      const res = await t.app.inject({ url, remoteAddress: '10.1.2.3', headers: { host: '10.1.2.3:3000' } });
      expect([200, 503], url).toContain(res.statusCode);
      expect(res.headers.location).toBeUndefined();
    }
  });

  it('outside production: no redirect, but ALLOWED_HOSTS is enforced when set', async () => {
    const dev = await createSecurityApp({ env: { ALLOWED_HOSTS: 'localhost' } });
    try {
      expect((await dev.app.inject({ url: '/api/v1/users/me', headers: { host: 'localhost:3000' } })).statusCode).toBe(401);
      expect((await dev.app.inject({ url: '/api/v1/users/me', headers: { host: 'attacker.example' } })).statusCode).toBe(400);
    } finally {
      await dev.close();
    }
  });
});

describe('CORS', () => {
  const ALLOWED = 'https://dash.darezone.test';
  let t: SecurityApp;
  beforeAll(async () => {
    t = await createSecurityApp({ env: { CORS_ORIGINS: `${ALLOWED},https://admin.darezone.test` } });
  });
  afterAll(() => t.close());

  const preflight = (origin: string, url = '/api/v1/users/me') =>
    t.app.inject({
      method: 'OPTIONS',
      url,
      headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, content-type' },
    });

  it('an allowed origin: preflight 204 with the exact origin echoed, Vary: Origin, methods and headers, no credentials', async () => {
    const res = await preflight(ALLOWED);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(String(res.headers.vary)).toMatch(/Origin/i);
    expect(res.headers['access-control-allow-methods']).toBe(CORS_ALLOW_METHODS);
    expect(res.headers['access-control-allow-headers']).toBe(CORS_ALLOW_HEADERS);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(securityHeaderProblems('preflight', res)).toEqual([]);
  });

  it('a disallowed origin (or a look-alike) gets no Access-Control-Allow-Origin', async () => {
    for (const origin of ['https://evil.example', 'null', 'https://dash.darezone.test.evil.example', 'http://dash.darezone.test', 'https://DASH.darezone.test.', '*']) {
      const res = await preflight(origin);
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
      expect(res.headers['access-control-allow-methods'], origin).toBeUndefined();
      const get = await t.app.inject({ url: '/health/live', headers: { origin } });
      expect(get.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
  });

  it('actual requests: allowed origin echoed exactly with Vary: Origin, on 200, 401 and 404 alike; never *', async () => {
    const user = await t.createUser();
    for (const [url, headers] of [['/api/v1/users/me', user.auth], ['/api/v1/users/me', {}], ['/nope', {}]] as const) {
      const res = await t.app.inject({ url, headers: { ...headers, origin: ALLOWED } });
      expect(res.headers['access-control-allow-origin'], url).toBe(ALLOWED);
      expect(String(res.headers.vary)).toMatch(/Origin/i);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(String(res.headers['access-control-expose-headers'])).toMatch(/x-request-id/);
    }
    const noOrigin = await t.app.inject({ url: '/health/live' });
    expect(String(noOrigin.headers.vary)).toMatch(/Origin/i); // a cache must not reuse it for an origin
    expect(noOrigin.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('default (CORS_ORIGINS empty): nobody is allowed, not even the API itself', async () => {
    const plain = await createSecurityApp();
    try {
      const res = await plain.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/users/me',
        headers: { origin: 'https://localhost:3000', 'access-control-request-method': 'GET' },
      });
      expect(res.statusCode).toBe(204);
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      expect(res.headers.vary).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});
