// §5.1 SQL injection, payload corpus: quotes, comments, stacked queries, UNION, boolean- and
// time-based (pg_sleep) payloads and encoded variants (URL-encoded, double-encoded, full-width
// quotes, NUL, base64url cursors carrying SQL) sent through every path parameter, every string query
// parameter and every string body field of every route, fields derived from the route schemas.
// Each request must: answer below 500; answer within 1 s (a pg_sleep(2) that ran would take 2 s);
// and return nothing the caller may not see — no password hash, no other user's email, and for a
// non-member none of the owner's private challenge data. Requests run in parallel batches and are
// timed one by one; one over 1 s is timed again alone (so a busy machine cannot fail it, while a
// sleep that really ran is slow every time).
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concreteUrl, createSecurityApp, label, routeSchema, sample, stringFields, type Route, type SecurityApp } from './helpers.js';
import { buildWorld, send, type World } from './world.js';

const SLEEP = 'pg_sleep(2)';
export const CORPUS: string[] = [
  `'`,
  `''`,
  `"`,
  `\\`,
  `' OR '1'='1`,
  `' OR 1=1--`,
  `" OR ""="`,
  `') OR ('1'='1`,
  `1 OR 1=1`,
  `admin'--`,
  `'/**/OR/**/1=1/*`,
  `'; DROP TABLE users;--`,
  `1; DELETE FROM challenges;--`,
  `'; UPDATE users SET role='admin';--`,
  `' UNION SELECT email, password_hash FROM users--`,
  `' UNION ALL SELECT NULL,NULL,NULL,NULL--`,
  `' AND 1=CAST((SELECT version()) AS int)--`,
  `'||${SLEEP}--`,
  `'; SELECT ${SLEEP};--`,
  `1;SELECT ${SLEEP}`,
  `' AND (SELECT 1 FROM ${SLEEP}) IS NOT NULL--`,
  `(SELECT CASE WHEN (1=1) THEN ${SLEEP} ELSE ${SLEEP.replace('2', '0')} END)`,
  `$$; SELECT ${SLEEP}; $$`,
  `%' OR '%'='`,
  `_%\\%`,
  `%27%20OR%201%3D1--`,
  `%2527%2520OR%25201%253D1--`,
  `＇ OR 1=1--`,
  `ʼ OR ʼ1ʼ=ʼ1`,
  `x\u0000' OR 1=1--`,
  `1 WAITFOR DELAY '0:0:2'--`,
  `' AND SLEEP(2)--`,
];
/** Cursor-shaped payloads: what the server decodes (base64url JSON) carrying SQL in each key. */
const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
export const CURSOR_CORPUS = [
  cursorOf([`' OR 1=1--`, '00000000-0000-4000-8000-000000000001']),
  cursorOf([1, `'; SELECT ${SLEEP};--`]),
  cursorOf([`9999999999999999' UNION SELECT email FROM users--`, `x'||${SLEEP}--`]),
  cursorOf([`abc`, `' OR '1'='1`]),
];

/**
 * Known 500s, reported to the modules' owners (docs/SECURITY.md, "Open findings"): not injection —
 * the values are bind parameters — but a decoded cursor is cast in SQL (`::timestamptz`, `::uuid`)
 * without being validated first, so a forged cursor fails in PostgreSQL (22007/22P02) instead of
 * answering 422. Admin-only routes. Tolerated here, and only here, until fixed.
 */

interface Probe {
  route: string;
  where: string;
  actor: 'owner' | 'nonMember' | 'admin';
  url: string;
  req: InjectOptions;
}

let t: SecurityApp;
let w: World;
beforeAll(async () => {
  t = await createSecurityApp();
  w = await buildWorld(t);
}, 120_000);
afterAll(async () => {
  t.expectNoSecretsLogged();
  await t.close();
});

const isDocs = (r: Route) => r.url === '/docs' || r.url.startsWith('/docs/');
const isAdmin = (r: Route) => r.options.config?.admin === true;

/** Values that make the uninjected parts of a request reach the route's SQL as the owner. */
function worldValues(r: Route): Record<string, string> {
  const v: Record<string, string> = { id: w.challenge.id, user_id: w.other.id, challenge_id: w.challenge.id, name: 'auth.prune_throttle' };
  if (r.url.includes('/notifications/')) v.id = w.notificationId;
  if (r.url.includes('/media/') && w.mediaId) v.id = w.mediaId;
  if (r.url.startsWith('/api/v1/users/:id')) v.id = w.owner.id;
  return v;
}

function probes(): Probe[] {
  const out: Probe[] = [];
  for (const r of t.routes) {
    if (isDocs(r) || r.method === 'HEAD') continue;
    if (r.method === 'POST' && r.url === '/api/v1/media') continue; // multipart: its one string field is an enum (kind)
    const values = worldValues(r);
    const actors = isAdmin(r) ? (['admin'] as const) : (['owner', 'nonMember'] as const);
    const query = routeSchema(r, 'querystring');
    const body = routeSchema(r, 'body');
    const baseQuery = query ? (sample(query, values) as Record<string, unknown>) : {};
    const baseBody = body ? (sample(body, values) as Record<string, unknown>) : undefined;
    const qs = (q: Record<string, unknown>) => {
      const s = new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString();
      return s ? `?${s}` : '';
    };
    const params = Object.keys(routeSchema(r, 'params')?.properties ?? {});
    const add = (where: string, url: string, payloadBody?: Record<string, unknown>) => {
      for (const actor of actors) {
        out.push({ route: label(r), where, actor, url, req: { method: r.method, url, headers: w[actor].auth, ...(payloadBody ? { payload: payloadBody } : {}) } });
      }
    };
    for (const payload of CORPUS) {
      for (const p of params) add(`params.${p}`, `${concreteUrl(r, { ...values, [p]: encodeURIComponent(payload) })}${qs(baseQuery)}`, baseBody);
      for (const f of stringFields(query)) add(`query.${f}`, `${concreteUrl(r, values)}${qs({ ...baseQuery, [f]: payload })}`, baseBody);
      for (const f of stringFields(body)) add(`body.${f}`, `${concreteUrl(r, values)}${qs(baseQuery)}`, { ...baseBody, [f]: payload });
    }
    if (query?.properties?.cursor) {
      for (const cursor of CURSOR_CORPUS) add('query.cursor(encoded)', `${concreteUrl(r, values)}${qs({ ...baseQuery, cursor })}`, baseBody);
    }
  }
  return out;
}

async function timed(req: InjectOptions) {
  const started = performance.now();
  const res = await send(t, req);
  return { res, ms: performance.now() - started };
}

describe('SQL injection corpus', () => {
  it('reaches every kind of input', () => {
    const all = probes();
    const wheres = new Set(all.map((p) => `${p.route} ${p.where}`));
    for (const expected of [
      'POST /api/v1/auth/login body.email',
      'POST /api/v1/auth/login body.password',
      'GET /api/v1/users/search query.q',
      'GET /api/v1/challenges/:id params.id',
      'GET /api/v1/challenges/:id/checkins query.cursor',
      'POST /api/v1/challenges/join body.invite_code',
      'PATCH /api/v1/users/me body.bio',
      'POST /api/v1/checkins body.caption',
    ]) {
      expect(wheres, expected).toContain(expected);
    }
    expect(all.length).toBeGreaterThan(1000);
  });

  it('never a 5xx, never slower than 1 s, never data beyond the caller', async () => {
    const all = probes();
    const others = [w.other, w.extra, w.nonMember, w.admin].map((u) => u.email);
    const failures: string[] = [];
    const slow: Probe[] = [];
    const BATCH = 8;
    for (let i = 0; i < all.length; i += BATCH) {
      const batch = all.slice(i, i + BATCH);
      const results = await Promise.all(batch.map((p) => timed(p.req)));
      results.forEach(({ res, ms }, j) => {
        const p = batch[j]!;
        const what = `${p.route} ${p.where} as ${p.actor} (${p.url.slice(0, 80)})`;
        if (res.statusCode >= 500) failures.push(`${what}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        if (ms > 1000) slow.push(p);
        const forbidden = [
          '$argon2', // a password hash (the payloads themselves may be echoed back, so no column names here)
          ...(p.actor === 'owner' ? others : [w.owner.email, ...others.filter((e) => e !== w[p.actor].email)]),
          ...(p.actor === 'nonMember' ? w.privateMarkers.membersOnly : []),
        ];
        const leaked = forbidden.filter((m) => res.body.includes(m));
        if (leaked.length > 0) failures.push(`${what}: leaked ${leaked.join(', ')}`);
        if (res.body && !/json/.test(String(res.headers['content-type']))) failures.push(`${what}: content-type ${String(res.headers['content-type'])}`);
      });
    }
    // Slow under parallel load? Time it again, alone: a time-based injection is slow every time.
    for (const p of slow) {
      const { ms } = await timed(p.req);
      if (ms > 1000) failures.push(`${p.route} ${p.where} as ${p.actor}: ${Math.round(ms)} ms (${p.url.slice(0, 80)})`);
    }
    console.log(`sql-injection corpus: ${all.length} requests, ${slow.length} re-timed alone`);
    expect(failures).toEqual([]);
  }, 600_000);

  it('the database is intact afterwards: users and roles unchanged, the owner still owns the challenge', async () => {
    const me = await t.app.inject({ url: `/api/v1/challenges/${w.challenge.id}`, headers: w.owner.auth });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ created_by: w.owner.id });
    for (const u of [w.owner, w.other, w.nonMember]) {
      const res = await t.app.inject({ url: '/api/v1/users/me', headers: u.auth });
      expect(res.json<{ role: string }>().role).toBe('user');
    }
  });
});
