// §5.1 "Authentication enforced by default": walks the app's whole route table — every route any
// module registers, now or later, is collected by an onRoute hook on the root instance — and proves
// that each one not on the public list answers 401 without a valid access token. The public list
// itself is pinned, so making a route public is a deliberate change to this file.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance, type HTTPMethods, type RouteOptions } from 'fastify';
import { sql } from 'drizzle-orm';
import { app as darezoneApp, serverOptions } from '../../src/app.js';
import { loadKeySet, signAccessToken, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/plugins/auth-keys.js';
import { SignJWT } from 'jose';
import { TEST_PASSWORD_HASH, testConfig } from '../helpers/app.js';
import { TestClock } from '../helpers/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const EXPECTED_PUBLIC = [
  'GET /health',
  'GET /health/live',
  'GET /health/ready',
  'GET /media/files/:id', // signed URL (HMAC over id + expiry) is the capability: src/modules/media/file-routes.ts
  'GET /metrics', // its own bearer METRICS_TOKEN, not a user token (src/plugins/metrics.ts)
  'GET /openapi.json',
  'HEAD /health',
  'HEAD /health/live',
  'HEAD /health/ready',
  'HEAD /media/files/:id',
  'HEAD /openapi.json',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/signup',
];

interface Route {
  method: HTTPMethods;
  url: string;
  options: RouteOptions;
}

const config = testConfig();
const keys = loadKeySet(config);
const clock = new TestClock();
const routes: Route[] = [];
let app: FastifyInstance;
let database: TestDatabase;
const userId = randomUUID();

beforeAll(async () => {
  database = await createTestDatabase();
  app = Fastify(serverOptions(config));
  // On the root, before anything is registered: encapsulated children inherit it, so no route escapes.
  app.addHook('onRoute', (options) => {
    for (const method of ([] as HTTPMethods[]).concat(options.method)) routes.push({ method, url: options.url, options });
  });
  await app.register(darezoneApp, { config, db: database.db, keys, clock });
  await app.ready();
  await database.db.withSystem(async (tx) => {
    await tx.execute(sql`insert into users (id, email, password_hash) values (${userId}, 'walker@example.test', ${TEST_PASSWORD_HASH})`);
    await tx.execute(sql`insert into user_profiles (user_id, display_name) values (${userId}, 'Walker')`);
  });
});
afterAll(async () => {
  await app.close();
  await database.close();
});

// Read at test time: plugins (e.g. openapi for /docs) may set `public` in their own onRoute hooks.
const isPublic = (r: Route) => r.options.config?.public === true;
const label = (r: Route) => `${r.method} ${r.url}`;
/** Path parameters get a valid-looking UUID, wildcards a plain segment. */
const concrete = (url: string) => url.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, randomUUID()).replace(/\*/g, 'x');

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = { sub: userId, role: 'user' as const, sid: randomUUID() };

async function badTokens(): Promise<[string, string | undefined][]> {
  const now = clock.now();
  const otherKeys = loadKeySet({ ...config, JWT_SECRET: 'a-completely-different-secret-0123456789abcdef', JWT_KEYS: undefined });
  const sameKidOtherSecret = { ...otherKeys, signing: { kid: keys.signing.kid, key: otherKeys.signing.key } };
  const payload = { sub: userId, role: 'admin', sid: claims.sid, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: Math.floor(now.getTime() / 1000), exp: Math.floor(now.getTime() / 1000) + 600 };
  const wrongAudience = await new SignJWT({ role: 'user', sid: claims.sid })
    .setProtectedHeader({ alg: 'HS256', kid: keys.signing.kid })
    .setSubject(userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience('someone-else')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(keys.signing.key);
  return [
    ['no Authorization header', undefined],
    ['a malformed token', 'Bearer not-a-jwt'],
    ['a non-Bearer scheme', `Basic ${Buffer.from('walker@example.test:password').toString('base64')}`],
    ['an expired token', `Bearer ${await signAccessToken(keys, claims, config.ACCESS_TOKEN_TTL_SECONDS, new Date(now.getTime() - 2 * 3600_000))}`],
    ['a token signed with another key', `Bearer ${await signAccessToken(sameKidOtherSecret, claims, 600, now)}`],
    ['a token with an unknown key id', `Bearer ${await signAccessToken(otherKeys, claims, 600, now)}`],
    ['an alg:none token', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`],
    ['a token for another audience', `Bearer ${wrongAudience}`],
  ];
}

const call = (r: Route, authorization?: string) =>
  app.inject({
    method: r.method,
    url: concrete(r.url),
    headers: authorization ? { authorization } : {},
    ...(['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) ? { payload: {} } : {}),
  });

describe('the route table', () => {
  it('has routes from the feature modules (the walk is not vacuous)', () => {
    const urls = routes.map(label);
    expect(urls).toContain('GET /api/v1/users/:id');
    expect(urls).toContain('POST /api/v1/auth/logout');
    expect(routes.filter((r) => !isPublic(r)).length).toBeGreaterThanOrEqual(10);
  });

  it('the public list is exactly the expected one (health, docs, openapi, signup, login, refresh)', () => {
    const publicRoutes = routes.filter(isPublic).map(label);
    expect(publicRoutes.filter((l) => !/^(GET|HEAD) \/docs/.test(l)).sort()).toEqual(EXPECTED_PUBLIC);
    // /docs serves the reference UI and its static files: read-only, nothing else under it.
    for (const l of publicRoutes.filter((p) => p.includes('/docs'))) expect(l).toMatch(/^(GET|HEAD) \/docs/);
  });

  it('every other route answers 401 to a missing, malformed, expired, foreign-key, alg:none or wrong-audience token', async () => {
    const protectedRoutes = routes.filter((r) => !isPublic(r));
    const failures: string[] = [];
    for (const [name, authorization] of await badTokens()) {
      for (const r of protectedRoutes) {
        const res = await call(r, authorization);
        const code = r.method === 'HEAD' ? 'UNAUTHENTICATED' : res.json<{ code?: string }>().code;
        if (res.statusCode !== 401 || code !== 'UNAUTHENTICATED') failures.push(`${label(r)} with ${name}: ${res.statusCode} ${code}`);
        else if (!String(res.headers['www-authenticate']).startsWith('Bearer')) failures.push(`${label(r)} with ${name}: no WWW-Authenticate`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the same routes do not answer 401 with a valid token (the 401s above come from the token)', async () => {
    const token = await signAccessToken(keys, claims, config.ACCESS_TOKEN_TTL_SECONDS, clock.now());
    const failures: string[] = [];
    for (const r of routes.filter((x) => !isPublic(x))) {
      const res = await call(r, `Bearer ${token}`);
      if (res.statusCode === 401) failures.push(`${label(r)}: 401 ${res.body}`);
    }
    expect(failures).toEqual([]);
  });

  it('a token stops working the moment it expires (by the injected clock)', async () => {
    const token = await signAccessToken(keys, claims, config.ACCESS_TOKEN_TTL_SECONDS, clock.now());
    const me = () => app.inject({ url: '/api/v1/users/me', headers: { authorization: `Bearer ${token}` } });
    expect((await me()).statusCode).toBe(200);
    clock.advance(config.ACCESS_TOKEN_TTL_SECONDS * 1000 + 1000);
    expect((await me()).statusCode).toBe(401);
  });
});
