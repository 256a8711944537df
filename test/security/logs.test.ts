// §5.1 Secrets in logs. Every file of this suite builds its app with the real logger options at
// trace level writing into memory, remembers every password, access token, refresh token and
// Authorization value it hands out, and greps its whole log output for them in afterAll
// (helpers.ts, expectNoSecretsLogged). This file adds the traffic most likely to leak: sign-up,
// logins right and wrong, refresh and reuse, password changes, logouts, every route called with a
// valid token and with garbage ones, credentials in the query string, and failures that log at
// error level.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSecurityApp, fillPath, hasBody, type SecurityApp } from './helpers.js';
import { send } from './world.js';

let t: SecurityApp;
beforeAll(async () => {
  t = await createSecurityApp({
    extend: (app) => {
      app.post('/test/explode', { config: { public: true } }, () => {
        throw new Error('failure while handling a request');
      });
    },
  });
});
afterAll(() => t.close());

it('a whole session of traffic logs no password, token or Authorization value', async () => {
  const email = 'log.scan@example.test';
  const password = 'Log-Scan-Passphrase-0042';
  const newPassword = 'Log-Scan-Passphrase-0043';
  for (const s of [password, newPassword, 'wrong-password-attempt-1', 'garbage.token.value']) t.secret(s);

  const signup = await send(t, { method: 'POST', url: '/api/v1/auth/signup', payload: { email, password, display_name: 'Log Scan' } });
  expect(signup.statusCode).toBe(201);
  const { access_token: access, refresh_token: refresh } = signup.json<{ access_token: string; refresh_token: string }>();
  const auth = { authorization: `Bearer ${access}` };

  await send(t, { method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'wrong-password-attempt-1' } });
  const login = await send(t, { method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  const refreshed = await send(t, { method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: login.json<{ refresh_token: string }>().refresh_token } });
  expect(refreshed.statusCode).toBe(200);
  await send(t, { method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: login.json<{ refresh_token: string }>().refresh_token } }); // reuse → logged event
  await send(t, { method: 'POST', url: '/api/v1/auth/password', headers: auth, payload: { current_password: 'wrong-password-attempt-1', new_password: newPassword } });
  await send(t, { method: 'POST', url: '/api/v1/auth/password', headers: auth, payload: { current_password: password, new_password: newPassword } });
  // Credentials where they do not belong: in the query string and in odd headers.
  await send(t, { url: `/api/v1/users/me?access_token=${access}&password=${password}`, headers: auth });
  await send(t, { url: '/api/v1/users/me', headers: { authorization: `bearer ${access}`, cookie: `session=${refresh}`, 'x-api-key': refresh } });
  await send(t, { method: 'POST', url: '/test/explode', payload: { password, refresh_token: refresh } });
  await send(t, { method: 'POST', url: '/api/v1/auth/logout', headers: auth, payload: { refresh_token: refresh } });

  // Every route, with the valid token and with garbage.
  for (const r of t.routes) {
    for (const authorization of [auth.authorization, 'Bearer garbage.token.value', `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`]) {
      await send(t, { method: r.method, url: fillPath(r.url), headers: { authorization }, ...(hasBody(r.method) ? { payload: { password, refresh_token: refresh } } : {}) });
    }
  }
  t.secret(Buffer.from(`${email}:${password}`).toString('base64'));

  expect(t.logs.length).toBeGreaterThan(100);
  expect(t.logs.some((l) => l.includes('"level":50'))).toBe(true); // the 500 was logged, with its error
  t.expectNoSecretsLogged();
  expect(t.logs.join('\n')).not.toMatch(/\$argon2id\$/);
});
