// §5.1 Secrets: no password, password hash or token reaches a log line. Runs the whole account flow
// (including failures, a lockout and a reuse detection, which do log) with the app's real logger
// options at trace level, then greps everything that was written.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext } from '../../helpers/app.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { hashRefreshToken } from '../../../src/modules/auth/tokens.js';

const capture = captureLogs();
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ fastify: { logger: capture.logger } });
});
afterAll(() => t.close());

it('the account flow logs no password, hash or token', async () => {
  const email = 'log.watcher@example.test';
  const password = 'Log-Watcher-Passphrase-1';
  const newPassword = 'Log-Watcher-Passphrase-2';
  const secrets: string[] = [password, newPassword];
  const post = async (url: string, payload: object, token?: string) => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/auth/${url}`, payload, headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (res.statusCode < 300 && res.body) {
      const body = res.json();
      for (const key of ['access_token', 'refresh_token']) if (body[key]) secrets.push(body[key], hashRefreshToken(body[key]));
    }
    return res;
  };

  const s = (await post('signup', { email, password, display_name: 'Log Watcher' })).json();
  await post('login', { email, password: 'a wrong password here' });
  const l = (await post('login', { email, password })).json();
  const r = (await post('refresh', { refresh_token: l.refresh_token })).json();
  await post('refresh', { refresh_token: l.refresh_token }); // reuse: logged as a security event
  await post('password', { current_password: 'wrong current password', new_password: newPassword }, s.access_token);
  await post('password', { current_password: password, new_password: newPassword }, s.access_token);
  await t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: { authorization: `Bearer ${s.access_token}` }, payload: { bio: 'hi', role: 'admin' } });
  await post('logout', { refresh_token: r.refresh_token }, s.access_token);
  for (let i = 0; i < 6; i++) await post('login', { email, password: `guess-number-${i}-of-many` });
  secrets.push(...Array.from({ length: 6 }, (_, i) => `guess-number-${i}-of-many`));

  const stored = await t.db.withSystem((tx) => tx.one<{ password_hash: string }>(sql`select password_hash from users where lower(email) = ${email}`));
  const hash = stored!.password_hash;
  secrets.push(hash, hash.split('$').at(-1)!, hash.split('$').at(-2)!); // the whole PHC string, its digest and its salt

  const text = capture.lines.join('\n');
  expect(capture.lines.length).toBeGreaterThan(15);
  for (const secret of secrets) expect(text, `a secret of length ${secret.length} was logged`).not.toContain(secret);
  expect(text).not.toMatch(/\$argon2id\$/);
  expect(text).not.toContain(email); // and no personal data in the security events either

  const events = capture.lines.map((l) => JSON.parse(l) as { event?: string }).map((l) => l.event).filter(Boolean);
  expect(events).toEqual(expect.arrayContaining(['auth.login_failed', 'auth.refresh_reuse', 'auth.lockout', 'auth.locked_attempt']));
});
