// The whole session life cycle through HTTP (§5.1 Tokens): sign-up, rotation, reuse detection,
// password change signing out the other sessions, logout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext } from '../../helpers/app.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const post = (url: string, payload?: object, token?: string) =>
  t.app.inject({ method: 'POST', url: `/api/v1/auth/${url}`, payload, headers: token ? { authorization: `Bearer ${token}` } : {} });
const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

describe('session life cycle', () => {
  const email = 'Flow.Person@Example.test';
  const password = 'correct horse battery staple';
  const newPassword = 'another long passphrase 9';

  it('signup → me → refresh → reuse → login → password change → logout', async () => {
    // Sign-up: 201, normalised email, a token pair.
    const signup = await post('signup', { email: `  ${email} `, password, display_name: ' Flow Person ' });
    expect(signup.statusCode).toBe(201);
    const session = signup.json();
    expect(session).toMatchObject({ token_type: 'bearer', expires_in: t.config.ACCESS_TOKEN_TTL_SECONDS });
    expect(session.user).toMatchObject({ email: email.toLowerCase(), role: 'user', display_name: 'Flow Person', timezone: 'UTC', points: 0 });
    expect(session.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    expect(Object.keys(session).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type', 'user']);

    // me, twice over.
    const me = await get('/api/v1/auth/me', session.access_token);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual(session.user);
    expect((await get('/api/v1/users/me', session.access_token)).json()).toEqual(session.user);

    // Refresh: a new pair, without `user`; the old refresh token is spent.
    const r1 = await post('refresh', { refresh_token: session.refresh_token });
    expect(r1.statusCode).toBe(200);
    const pair1 = r1.json();
    expect(Object.keys(pair1).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(pair1.refresh_token).not.toBe(session.refresh_token);
    expect((await get('/api/v1/auth/me', pair1.access_token)).statusCode).toBe(200);

    // Reusing the spent token: 401, and the whole family is revoked — the new token too.
    const reuse = await post('refresh', { refresh_token: session.refresh_token });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().code).toBe('INVALID_REFRESH_TOKEN');
    const afterReuse = await post('refresh', { refresh_token: pair1.refresh_token });
    expect(afterReuse.statusCode).toBe(401);
    expect(afterReuse.json().code).toBe('INVALID_REFRESH_TOKEN');

    // Two independent sessions (two devices).
    const loginA = await post('login', { email, password });
    expect(loginA.statusCode).toBe(200);
    const a = loginA.json();
    expect(a.user.email).toBe(email.toLowerCase());
    const b = (await post('login', { email: email.toUpperCase(), password })).json();
    expect(b.refresh_token).toBeDefined();

    // Password change on device A: B's refresh token dies, A's lives on.
    const change = await post('password', { current_password: password, new_password: newPassword }, a.access_token);
    expect(change.statusCode).toBe(204);
    expect(change.body).toBe('');
    expect((await post('refresh', { refresh_token: b.refresh_token })).statusCode).toBe(401);
    const a2 = await post('refresh', { refresh_token: a.refresh_token });
    expect(a2.statusCode).toBe(200);
    const aPair = a2.json();

    // The old password no longer works, the new one does.
    expect((await post('login', { email, password })).statusCode).toBe(401);
    const c = await post('login', { email, password: newPassword });
    expect(c.statusCode).toBe(200);

    // Logout with the access token ends that session: its refresh token fails afterwards.
    const logout = await post('logout', { refresh_token: aPair.refresh_token }, aPair.access_token);
    expect(logout.statusCode).toBe(204);
    const dead = await post('refresh', { refresh_token: aPair.refresh_token });
    expect(dead.statusCode).toBe(401);
    expect(dead.json().code).toBe('INVALID_REFRESH_TOKEN');
    // Session C was not touched by A's logout.
    expect((await post('refresh', { refresh_token: c.json().refresh_token })).statusCode).toBe(200);
  });

  it('refresh tokens are stored only as SHA-256 hashes, and rotation links old to new', async () => {
    const s = (await post('signup', { email: 'hashes@example.test', password, display_name: 'Hashes' })).json();
    const r = (await post('refresh', { refresh_token: s.refresh_token })).json();
    const rows = await t.db.withSystem((tx) =>
      tx.query<{ id: string; token_hash: string; rotated_at: Date | null; replaced_by: string | null; family_id: string }>(
        sql`select id, token_hash, rotated_at, replaced_by, family_id from refresh_tokens where user_id = ${s.user.id} order by created_at, rotated_at nulls last`,
      ),
    );
    expect(rows).toHaveLength(2);
    const all = JSON.stringify(rows);
    expect(all).not.toContain(s.refresh_token);
    expect(all).not.toContain(r.refresh_token);
    const [old, current] = rows;
    expect(old!.rotated_at).not.toBeNull();
    expect(old!.replaced_by).toBe(current!.id);
    expect(old!.family_id).toBe(current!.family_id);
    expect(current!.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an expired refresh token is refused', async () => {
    const s = (await post('signup', { email: 'expiry@example.test', password, display_name: 'Expiry' })).json();
    t.clock.advanceDays(t.config.REFRESH_TOKEN_TTL_DAYS + 1);
    try {
      const res = await post('refresh', { refresh_token: s.refresh_token });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('INVALID_REFRESH_TOKEN');
    } finally {
      t.clock.advanceDays(-(t.config.REFRESH_TOKEN_TTL_DAYS + 1));
    }
  });

  it('an unknown or garbage refresh token is 401, never 500', async () => {
    for (const refresh_token of ['x', 'A'.repeat(43), "' or 1=1 --"]) {
      const res = await post('refresh', { refresh_token });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('INVALID_REFRESH_TOKEN');
    }
  });

  it('logout without a body ends the current session; all_sessions ends every one', async () => {
    const s = (await post('signup', { email: 'logout@example.test', password, display_name: 'Logout' })).json();
    const other = (await post('login', { email: 'logout@example.test', password })).json();
    const third = (await post('login', { email: 'logout@example.test', password })).json();

    const bare = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${s.access_token}` } });
    expect(bare.statusCode).toBe(204);
    expect((await post('refresh', { refresh_token: s.refresh_token })).statusCode).toBe(401);
    expect((await post('refresh', { refresh_token: other.refresh_token })).statusCode).toBe(200);

    expect((await post('logout', { all_sessions: true }, third.access_token)).statusCode).toBe(204);
    expect((await post('refresh', { refresh_token: third.refresh_token })).statusCode).toBe(401);
    const tokens = await t.db.withSystem((tx) =>
      tx.query(sql`select 1 from refresh_tokens where user_id = ${s.user.id} and revoked_at is null`),
    );
    expect(tokens).toHaveLength(0);
  });

  it("logout cannot revoke someone else's session with their refresh token", async () => {
    const victim = (await post('signup', { email: 'victim@example.test', password, display_name: 'Victim' })).json();
    const attacker = (await post('signup', { email: 'attacker@example.test', password, display_name: 'Attacker' })).json();
    expect((await post('logout', { refresh_token: victim.refresh_token }, attacker.access_token)).statusCode).toBe(204);
    expect((await post('refresh', { refresh_token: victim.refresh_token })).statusCode).toBe(200);
  });

  it('logout and password change need the access token', async () => {
    expect((await post('logout', {})).statusCode).toBe(401);
    expect((await post('password', { current_password: password, new_password: newPassword })).statusCode).toBe(401);
  });
});
