// Sign-up and password-change input rules (§3 Accounts): email normalised and unique
// case-insensitively, the password policy, unknown fields refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext } from '../../helpers/app.js';
import { passwordWeakness } from '../../../src/modules/auth/passwords.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const GOOD = 'a sturdy passphrase 7';
const signup = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload });

describe('POST /auth/signup', () => {
  it('a duplicate email in any case or padding is 409 EMAIL_TAKEN', async () => {
    expect((await signup({ email: 'dup@example.test', password: GOOD, display_name: 'First' })).statusCode).toBe(201);
    for (const email of ['dup@example.test', 'DUP@Example.TEST', '  Dup@example.test ']) {
      const res = await signup({ email, password: GOOD, display_name: 'Second' });
      expect(res.statusCode, email).toBe(409);
      expect(res.json().code).toBe('EMAIL_TAKEN');
    }
    const count = await t.db.withSystem((tx) => tx.one<{ n: number }>(sql`select count(*)::int as n from users where lower(email) = 'dup@example.test'`));
    expect(count!.n).toBe(1);
  });

  it.each([
    ['too short', 'short1234'],
    ['too long', 'x'.repeat(129)],
    ['common', 'password123'],
    ['common, other case', 'QwErTyUiOp'],
    ['common digits', '1234567890'],
    ['common with year', 'summer2024'],
  ])('a weak password (%s) is 422 WEAK_PASSWORD', async (_name, password) => {
    const res = await signup({ email: `weak-${password.length}-${Math.random()}@example.test`, password, display_name: 'Weak' });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.code).toBe('WEAK_PASSWORD');
    expect(body.errors).toEqual([{ path: 'body.password', message: expect.any(String) }]);
    expect(JSON.stringify(body)).not.toContain(password);
  });

  it('the policy counts characters, not bytes, and accepts 10 and 128', () => {
    expect(passwordWeakness('ä'.repeat(10))).toBeNull();
    expect(passwordWeakness('🔒'.repeat(9))).toMatch(/at least 10/);
    expect(passwordWeakness('k'.repeat(5) + 'z'.repeat(123))).toBeNull();
  });

  it.each(['not-an-email', 'a@b', 'two@@example.test', 'spaces in@example.test', 'x@-bad-.test', `${'l'.repeat(65)}@example.test`])(
    'an invalid email (%s) is 422',
    async (email) => {
      const res = await signup({ email, password: GOOD, display_name: 'Bad Email' });
      expect(res.statusCode).toBe(422);
      expect(res.json().code).toBe('VALIDATION_FAILED');
      expect(res.json().errors[0].path).toBe('body.email');
    },
  );

  it.each([
    ['a blank display name', { display_name: '   ' }, 422],
    ['a display name over 50 characters', { display_name: 'n'.repeat(51) }, 422],
    ['a control character in the display name', { display_name: 'bad\u0007name' }, 422],
    ['an unknown field (role)', { role: 'admin' }, 400],
    ['an unknown field (points)', { points: 1000 }, 400],
    ['a missing field', { display_name: undefined }, 400],
  ])('%s is refused', async (_name, extra, status) => {
    const res = await signup({ email: `refused-${Math.random()}@example.test`, password: GOOD, display_name: 'Fine', ...extra });
    expect(res.statusCode).toBe(status);
    expect(res.json().code).toBe(status === 400 ? 'MALFORMED_REQUEST' : 'VALIDATION_FAILED');
  });

  it('a signed-up account is a plain user: `role` cannot be chosen', async () => {
    const res = await signup({ email: 'wannabe@example.test', password: GOOD, display_name: 'Wannabe', role: 'admin' });
    expect(res.statusCode).toBe(400);
    const rows = await t.db.withSystem((tx) => tx.query(sql`select 1 from users where email = 'wannabe@example.test'`));
    expect(rows).toHaveLength(0);
  });

  it('stores an argon2id hash with the configured parameters, never the password', async () => {
    const res = await signup({ email: 'hash@example.test', password: GOOD, display_name: 'Hash' });
    const row = await t.db.withSystem((tx) => tx.one<{ password_hash: string }>(sql`select password_hash from users where id = ${res.json().user.id}`));
    expect(row!.password_hash).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$m=${t.config.ARGON2_MEMORY_KIB},t=${t.config.ARGON2_ITERATIONS},p=1\\$`));
    expect(row!.password_hash).not.toContain(GOOD);
  });
});

describe('POST /auth/password', () => {
  it('refuses a weak or unchanged new password and a wrong current one, and changes nothing', async () => {
    const user = await t.users.create();
    const change = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: user.auth, payload });
    const weak = await change({ current_password: user.password, new_password: 'password1234' });
    expect(weak.statusCode).toBe(422);
    expect(weak.json().code).toBe('WEAK_PASSWORD');
    expect(weak.json().errors[0].path).toBe('body.new_password');
    const same = await change({ current_password: user.password, new_password: user.password });
    expect(same.statusCode).toBe(422);
    const wrong = await change({ current_password: 'not my password at all', new_password: GOOD });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().errors[0].path).toBe('body.current_password');
    expect((await change({ current_password: user.password, new_password: GOOD, extra: 1 })).statusCode).toBe(400);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: user.email, password: user.password } });
    expect(login.statusCode).toBe(200);
  });
});

describe('request shapes', () => {
  it.each([
    ['login', { email: 'a@example.test', password: 'x', remember: true }],
    ['refresh', { refresh_token: 'x', user_id: 'y' }],
  ])('POST /auth/%s refuses unknown fields with 400', async (route, payload) => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/auth/${route}`, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('MALFORMED_REQUEST');
  });
});
