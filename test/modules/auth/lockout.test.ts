// Credential attacks (§5.1): 5 failures for one email in 15 minutes lock it for 15 minutes whatever
// the client IP; unknown email and wrong password are indistinguishable. Time is the test clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../../helpers/app.js';
import { LOCKOUT_DURATION_MS } from '../../../src/modules/auth/service.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

let ip = 0;
/** Each attempt from another client address, with another X-Forwarded-For: neither may matter. */
const login = (email: string, password: string) => {
  ip++;
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    remoteAddress: `203.0.113.${ip % 250}`,
    headers: { 'x-forwarded-for': `198.51.100.${ip % 250}` },
  });
};

const MINUTE = 60_000;
/** The problem body without the per-request fields. */
const stable = (body: Record<string, unknown>) => {
  const { request_id: _r, instance: _i, ...rest } = body;
  return rest;
};

describe('login lockout', () => {
  it('locks an email after 5 failures from any IPs: the 6th attempt is 429 with Retry-After even with the right password', async () => {
    const user = await t.users.create({ email: 'locked@example.test' });
    for (let i = 1; i <= 5; i++) {
      const res = await login(user.email, `wrong-password-${i}`);
      expect(res.statusCode, `attempt ${i}`).toBe(401);
    }
    const sixth = await login(user.email, user.password);
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().code).toBe('ACCOUNT_LOCKED');
    expect(sixth.headers['retry-after']).toBe(String(LOCKOUT_DURATION_MS / 1000));

    // The email is locked, not the address: other casing and whitespace are the same email.
    const other = await login(`  ${user.email.toUpperCase()} `, user.password);
    expect(other.statusCode).toBe(429);

    t.clock.advance(10 * MINUTE);
    const later = await login(user.email, user.password);
    expect(later.statusCode).toBe(429);
    expect(Number(later.headers['retry-after'])).toBe(5 * 60);

    // After the 15 minutes, the right password works again.
    t.clock.advance(5 * MINUTE);
    expect((await login(user.email, user.password)).statusCode).toBe(200);
  });

  it('a successful login resets the count', async () => {
    const user = await t.users.create();
    for (let i = 0; i < 4; i++) expect((await login(user.email, 'not-the-password')).statusCode).toBe(401);
    expect((await login(user.email, user.password)).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login(user.email, 'not-the-password')).statusCode).toBe(401);
    // 8 failures in all, never 5 in a row: still open.
    expect((await login(user.email, user.password)).statusCode).toBe(200);
  });

  it('failures older than the 15-minute window do not count', async () => {
    const user = await t.users.create();
    for (let i = 0; i < 4; i++) expect((await login(user.email, 'not-the-password')).statusCode).toBe(401);
    t.clock.advance(16 * MINUTE);
    for (let i = 0; i < 4; i++) expect((await login(user.email, 'not-the-password')).statusCode).toBe(401);
    expect((await login(user.email, user.password)).statusCode).toBe(200);
  });

  it('an unknown email is locked the same way (a lockout reveals nothing about registration)', async () => {
    for (let i = 0; i < 5; i++) expect((await login('nobody-here@example.test', 'whatever-password')).statusCode).toBe(401);
    const res = await login('nobody-here@example.test', 'whatever-password');
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('concurrent wrong guesses never get more than 5 password checks through', async () => {
    const user = await t.users.create();
    const results = await Promise.all(Array.from({ length: 12 }, () => login(user.email, 'concurrent-guess')));
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(7);
  });

  it('unknown email and wrong password give identical responses', async () => {
    const user = await t.users.create();
    const wrong = await login(user.email, 'definitely-wrong-password');
    const unknown = await login('no-such-account@example.test', 'definitely-wrong-password');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(stable(unknown.json())).toEqual(stable(wrong.json()));
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS');
    const headersOf = (h: Record<string, unknown>) => {
      const { 'x-request-id': _id, date: _d, 'content-length': _l, ...rest } = h;
      return rest;
    };
    expect(headersOf(unknown.headers)).toEqual(headersOf(wrong.headers));
  });

  it('unknown email and wrong password take comparable time (a dummy hash is verified)', async () => {
    const user = await t.users.create();
    const time = async (email: string) => {
      const started = performance.now();
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'timing-probe-password' } });
      return performance.now() - started;
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    // Interleaved, 4 each (under the lockout threshold), medians compared.
    for (let i = 0; i < 4; i++) {
      wrong.push(await time(user.email));
      unknown.push(await time(`unknown-${i}@example.test`));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [w, u] = [median(wrong), median(unknown)];
    // Without the dummy verification an unknown email answers >10x faster (no argon2 at all); the
    // bounds are loose because a shared CI machine is noisy.
    expect(u).toBeGreaterThan(w / 3);
    expect(u).toBeLessThan(w * 3);
  });

  it('a wrong current password on /auth/password counts towards the same lockout', async () => {
    const user = await t.users.create();
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: user.auth,
        payload: { current_password: `stolen-token-guess-${i}`, new_password: 'a brand new passphrase' },
      });
      expect(res.statusCode).toBe(422);
    }
    const res = await login(user.email, user.password);
    expect(res.statusCode).toBe(429);
  });
});
