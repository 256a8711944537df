// §5.1 Authorization (OWASP API1 object level, API5 function level), generated from the route
// table: every route × {anonymous, owner, other member, non-member, platform admin} against a
// seeded world (world.ts). EXPECTED declares each cell's status; a route missing from it fails the
// suite, so a new route cannot ship without its row. REQUESTS says how each route is called; cells
// of routes that change state get fresh objects (a new challenge, notification, media item), so
// cells never depend on each other's order. Every answer is also checked for data the actor may not
// see (the owner's email; the private challenge's invite code, name and the owner's caption).
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecurityApp, label, type Route, type SecurityApp } from './helpers.js';
import {
  ACTORS,
  authOf,
  buildWorld,
  freshChallenge,
  HABIT_WATER,
  insertNotification,
  multipart,
  send,
  TINY_JPEG,
  uploadPhoto,
  type Actor,
  type World,
} from './world.js';

type Cells = Record<Actor, number>;
const cells = (anonymous: number, owner: number, other: number, nonMember: number, admin: number): Cells => ({ anonymous, owner, other, nonMember, admin });
/** Any signed-in user gets `status` (the route acts on the caller's own data). */
const ownData = (status: number) => cells(401, status, status, status, status);
/** Public: the same for everyone, token or not. */
const open = (status: number) => cells(status, status, status, status, status);
/** Platform admins only. */
const adminOnly = (status: number) => cells(401, 403, 403, 403, status);
/** The owner's private challenge: its members see it; everyone else, platform admins included, gets 404 (existence not revealed). */
const members = (status: number) => cells(401, status, status, 404, 404);

export const EXPECTED: Record<string, Cells> = {
  'GET /health': open(200),
  'GET /health/live': open(200),
  'GET /health/ready': open(200),
  'GET /openapi.json': open(200),
  'GET /metrics': open(200), // no METRICS_TOKEN in tests: loopback clients only (inject is loopback)
  'GET /media/files/:id': open(200), // the signed URL is the capability (owner's link, any holder)

  'POST /api/v1/auth/signup': open(201),
  'POST /api/v1/auth/login': open(200),
  'POST /api/v1/auth/refresh': open(200),
  'POST /api/v1/auth/logout': ownData(204),
  'POST /api/v1/auth/password': ownData(422), // a wrong current password: the route is reached, nothing changes
  'GET /api/v1/auth/me': ownData(200),

  'GET /api/v1/users/me': ownData(200),
  'PATCH /api/v1/users/me': ownData(200),
  'GET /api/v1/users/search': ownData(200),
  'GET /api/v1/users/:id': cells(401, 200, 200, 404, 404), // the owner's profile: self and fellow members only

  'GET /api/v1/admin/jobs': adminOnly(200),
  'GET /api/v1/admin/jobs/:name/runs': adminOnly(200),
  'POST /api/v1/admin/jobs/:name/run': adminOnly(202),
  'GET /api/v1/admin/backups': adminOnly(200),
  'POST /api/v1/admin/backups': adminOnly(202),
  'GET /api/v1/admin/alerts': adminOnly(200),

  'GET /api/v1/habits': ownData(200),
  'POST /api/v1/habits': ownData(201),

  'POST /api/v1/challenges': ownData(201),
  'GET /api/v1/challenges': ownData(200),
  'POST /api/v1/challenges/join': ownData(200), // a fresh challenge's code: holding it is the capability
  'GET /api/v1/challenges/:id': members(200),
  'PATCH /api/v1/challenges/:id': cells(401, 200, 403, 404, 404), // creator (and challenge admins) only
  'POST /api/v1/challenges/:id/leave': cells(401, 409, 204, 404, 404), // the creator cannot leave while members remain
  'GET /api/v1/challenges/:id/members': members(200),
  'DELETE /api/v1/challenges/:id/members/:user_id': cells(401, 204, 403, 404, 404),
  'GET /api/v1/challenges/:id/progress': members(200),
  'GET /api/v1/challenges/:id/checkins': members(200),

  'POST /api/v1/checkins': cells(401, 201, 201, 404, 404), // into the owner's challenge: active members only
  'GET /api/v1/checkins': ownData(200),
  'GET /api/v1/checkins/today': ownData(200),

  'GET /api/v1/notifications': ownData(200),
  'GET /api/v1/notifications/unread-count': ownData(200),
  'POST /api/v1/notifications/:id/read': cells(401, 200, 404, 404, 404), // the owner's notification
  'POST /api/v1/notifications/read-all': ownData(200),
  'DELETE /api/v1/notifications/:id': cells(401, 204, 404, 404, 404),

  'POST /api/v1/media': ownData(201),
  'GET /api/v1/media/:id': members(200), // a photo used in a check-in of the owner's challenge
  'DELETE /api/v1/media/:id': cells(401, 204, 404, 404, 404), // an unused photo of the owner's
};

/** The reference UI and its assets: public, read-only (test/plugins/auth.test.ts pins that). */
const isDocs = (r: Route) => r.url === '/docs' || r.url.startsWith('/docs/');

type Build = (w: World, actor: Actor) => Promise<InjectOptions> | InjectOptions;
const get = (url: string): Build => () => ({ method: 'GET', url });

const REQUESTS: Record<string, Build> = {
  'GET /media/files/:id': (w) => ({ method: 'GET', url: w.mediaUrl! }),
  'POST /api/v1/auth/signup': () => ({
    method: 'POST',
    url: '/api/v1/auth/signup',
    payload: { email: `new-${Math.random().toString(36).slice(2)}@example.test`, password: 'Matrix-Signup-Passphrase-9', display_name: 'New' },
  }),
  'POST /api/v1/auth/login': (w) => ({ method: 'POST', url: '/api/v1/auth/login', payload: { email: w.owner.email, password: w.owner.password } }),
  'POST /api/v1/auth/refresh': async (w) => {
    const login = await send(w.t, { method: 'POST', url: '/api/v1/auth/login', payload: { email: w.other.email, password: w.other.password } });
    return { method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: login.json<{ refresh_token: string }>().refresh_token } };
  },
  'POST /api/v1/auth/logout': () => ({ method: 'POST', url: '/api/v1/auth/logout', payload: {} }),
  'POST /api/v1/auth/password': () => ({
    method: 'POST',
    url: '/api/v1/auth/password',
    payload: { current_password: 'not-the-current-password', new_password: 'Matrix-New-Passphrase-42' },
  }),
  'PATCH /api/v1/users/me': () => ({ method: 'PATCH', url: '/api/v1/users/me', payload: { bio: 'updated by the matrix' } }),
  'GET /api/v1/users/search': get('/api/v1/users/search?q=Ol'),
  'GET /api/v1/users/:id': (w) => ({ method: 'GET', url: `/api/v1/users/${w.owner.id}` }),
  'GET /api/v1/admin/jobs/:name/runs': get('/api/v1/admin/jobs/auth.prune_throttle/runs'),
  'POST /api/v1/admin/jobs/:name/run': () => ({ method: 'POST', url: '/api/v1/admin/jobs/auth.prune_throttle/run' }),
  'POST /api/v1/habits': () => ({ method: 'POST', url: '/api/v1/habits', payload: { name: 'Stretching' } }),
  'POST /api/v1/challenges': () => ({
    method: 'POST',
    url: '/api/v1/challenges',
    payload: { name: 'Matrix challenge', type: 'group', start_date: '2026-06-20', end_date: '2026-07-20', habit_ids: [HABIT_WATER], checkin_type: 'any' },
  }),
  'POST /api/v1/challenges/join': async (w, actor) => {
    // The owner joins another user's challenge (the owner's own would be 409 ALREADY_MEMBER).
    const creator = actor === 'owner' ? w.other : w.owner;
    const c = await freshChallenge({ t: w.t, owner: creator });
    return { method: 'POST', url: '/api/v1/challenges/join', payload: { invite_code: c.invite_code } };
  },
  'GET /api/v1/challenges/:id': (w) => ({ method: 'GET', url: `/api/v1/challenges/${w.challenge.id}` }),
  'PATCH /api/v1/challenges/:id': async (w) => {
    const c = await freshChallenge(w, [w.other]);
    return { method: 'PATCH', url: `/api/v1/challenges/${c.id}`, payload: { description: 'edited' } };
  },
  'POST /api/v1/challenges/:id/leave': async (w) => {
    const c = await freshChallenge(w, [w.other]);
    return { method: 'POST', url: `/api/v1/challenges/${c.id}/leave` };
  },
  'GET /api/v1/challenges/:id/members': (w) => ({ method: 'GET', url: `/api/v1/challenges/${w.challenge.id}/members` }),
  'DELETE /api/v1/challenges/:id/members/:user_id': async (w) => {
    const c = await freshChallenge(w, [w.other, w.extra]);
    return { method: 'DELETE', url: `/api/v1/challenges/${c.id}/members/${w.extra.id}` };
  },
  'GET /api/v1/challenges/:id/progress': (w) => ({ method: 'GET', url: `/api/v1/challenges/${w.challenge.id}/progress` }),
  'GET /api/v1/challenges/:id/checkins': (w) => ({ method: 'GET', url: `/api/v1/challenges/${w.challenge.id}/checkins` }),
  'POST /api/v1/checkins': async (w) => {
    // A fresh challenge per cell (one check-in per habit and day), joined by the other member.
    const c = await freshChallenge(w, [w.other]);
    return { method: 'POST', url: '/api/v1/checkins', payload: { challenge_id: c.id, habit_id: HABIT_WATER, caption: 'matrix' } };
  },
  'POST /api/v1/notifications/:id/read': (w) => ({ method: 'POST', url: `/api/v1/notifications/${w.notificationId}/read` }),
  'DELETE /api/v1/notifications/:id': async (w) => ({ method: 'DELETE', url: `/api/v1/notifications/${await insertNotification(w, w.owner.id)}` }),
  'POST /api/v1/media': () => ({ method: 'POST', url: '/api/v1/media', ...multipart({ kind: 'photo' }, TINY_JPEG) }),
  'GET /api/v1/media/:id': (w) => ({ method: 'GET', url: `/api/v1/media/${w.mediaId}` }),
  'DELETE /api/v1/media/:id': async (w) => ({ method: 'DELETE', url: `/api/v1/media/${await uploadPhoto(w.t, w.owner)}` }),
};

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

/** The GET row a HEAD route shares. */
const entryKey = (r: Route) => label({ method: r.method === 'HEAD' ? 'GET' : r.method, url: r.url });

describe('authorization matrix', () => {
  it('every route of the table is declared (add a row to EXPECTED for a new route), and every row is a real route', () => {
    const undeclared = t.routes.filter((r) => !isDocs(r) && !(entryKey(r) in EXPECTED)).map(label);
    expect(undeclared).toEqual([]);
    const present = new Set(t.routes.map(entryKey));
    // Rows declared ahead for modules being built in parallel (media, metrics, alerts) are not stale
    // while their module is absent from the build; any other row without a route is.
    const ahead = (k: string) => /\/media\/|\/media$|^GET \/metrics$|\/admin\/alerts/.test(k);
    const stale = Object.keys(EXPECTED).filter((k) => !present.has(k) && !ahead(k));
    expect(stale).toEqual([]);
  });

  it('every cell answers as declared, and nobody receives data they may not see', async () => {
    const failures: string[] = [];
    let count = 0;
    for (const r of t.routes) {
      if (isDocs(r)) continue;
      const expected = EXPECTED[entryKey(r)]!;
      const build = REQUESTS[entryKey(r)] ?? get(r.url);
      for (const actor of ACTORS) {
        const base = await build(w, actor);
        const req: InjectOptions = { ...base, method: r.method, headers: { ...(base.headers as Record<string, string>), ...authOf(w, actor) } };
        const res = await send(t, req);
        count++;
        if (res.statusCode !== expected[actor]) {
          failures.push(`${label(r)} as ${actor}: expected ${expected[actor]}, got ${res.statusCode} ${res.body.slice(0, 160)}`);
        }
        // A login with the owner's credentials returns the owner's profile, whoever sends it.
        const carriesOwnerCredentials = entryKey(r) === 'POST /api/v1/auth/login';
        const leaks = [
          ...(actor === 'owner' || carriesOwnerCredentials ? [] : w.privateMarkers.ownerOnly),
          ...(['owner', 'other'].includes(actor) ? [] : w.privateMarkers.membersOnly),
        ].filter((m) => res.body.includes(m));
        if (leaks.length > 0) failures.push(`${label(r)} as ${actor}: leaked ${leaks.join(', ')}`);
      }
    }
    expect(count).toBeGreaterThan(150);
    expect(failures).toEqual([]);
  }, 300_000);

  it('the docs routes are public and read-only for everyone', async () => {
    for (const r of t.routes.filter(isDocs)) {
      expect(['GET', 'HEAD'], label(r)).toContain(r.method);
      for (const actor of ACTORS) {
        const res = await t.app.inject({ method: r.method, url: r.url.replace('*', 'swagger-ui.css'), headers: authOf(w, actor) });
        expect([200, 302], `${label(r)} as ${actor}`).toContain(res.statusCode);
      }
    }
  });
});
