// Accounts and sessions (§3 Accounts, §5.1 Tokens / Credential attacks). See docs/AUTH.md.
// Roles: pre-authentication lookups (the account behind an email, the owner of a refresh token) and
// the lockout table run as darezone_jobs (withSystem); everything after the identity is known runs
// as that user (withUser), so RLS still bounds it.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.js';
import type { Database, Tx } from '../../db/database.js';
import { PG, pgErrorCode } from '../../db/database.js';
import { AppError, invalid } from '../../errors.js';
import { signAccessToken, type KeySet } from '../../plugins/auth-keys.js';
import type { AuthUser } from '../../plugins/auth.js';
import type { Clock } from '../../plugins/core.js';
import { findOwnProfile } from '../users/repository.js';
import { createUsersService, normaliseDisplayName, presentOwnProfile } from '../users/service.js';
import { assertStrongPassword, type PasswordHasher } from './passwords.js';
import * as repo from './repository.js';
import type { Login, Logout, PasswordChange, Signup } from './schemas.js';
import { hashRefreshToken, newRefreshToken, refreshExpiry } from './tokens.js';

export const LOCKOUT_THRESHOLD = 5;
export const LOCKOUT_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_DURATION_MS = 15 * 60_000;

// ASCII addresses with a dotted domain: what every mainstream provider issues. Anything else is far
// more often a typo than a real address.
const EMAIL = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

export function normaliseEmail(value: string, path = 'body.email'): string {
  const email = value.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) throw invalid(path, 'is not a valid email address');
  return email;
}

type Attempt = { locked: true; retryAfterSeconds: number } | { locked: false; next: repo.ThrottleRow };

/**
 * Counts an attempt before the password is checked (and a success clears the count), so concurrent
 * guesses cannot slip past the limit between a check and an increment: at most LOCKOUT_THRESHOLD
 * passwords are ever tried per window, however many requests arrive at once.
 */
export function admitAttempt(row: repo.ThrottleRow, now: Date): Attempt {
  if (row.locked_until && row.locked_until > now) {
    return { locked: true, retryAfterSeconds: Math.max(1, Math.ceil((row.locked_until.getTime() - now.getTime()) / 1000)) };
  }
  const inWindow = row.failures > 0 && now.getTime() - row.window_started_at.getTime() < LOCKOUT_WINDOW_MS;
  const failures = inWindow ? row.failures + 1 : 1;
  return {
    locked: false,
    next: {
      failures,
      window_started_at: inWindow ? row.window_started_at : now,
      locked_until: failures >= LOCKOUT_THRESHOLD ? new Date(now.getTime() + LOCKOUT_DURATION_MS) : null,
    },
  };
}

export interface AuthDeps {
  db: Database;
  clock: Clock;
  config: Pick<Config, 'ACCESS_TOKEN_TTL_SECONDS' | 'REFRESH_TOKEN_TTL_DAYS'>;
  keys: KeySet;
  hasher: PasswordHasher;
}

const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'Invalid email or password');
const invalidRefreshToken = () => new AppError('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or revoked; sign in again');

export function createAuthService({ db, clock, config, keys, hasher }: AuthDeps) {
  const users = createUsersService({ db, clock });

  /** A new refresh token in `familyId` (a new family = a new session) and an access token for it. */
  async function issueTokens(tx: Tx, user: { id: string; role: repo.Role }, familyId: string, now: Date) {
    const refresh = newRefreshToken();
    const tokenId = randomUUID();
    await repo.insertRefreshToken(tx, {
      id: tokenId,
      userId: user.id,
      familyId,
      hash: refresh.hash,
      now,
      expiresAt: refreshExpiry(now, config.REFRESH_TOKEN_TTL_DAYS),
    });
    const access = await signAccessToken(keys, { sub: user.id, role: user.role, sid: familyId }, config.ACCESS_TOKEN_TTL_SECONDS, now);
    const pair = { access_token: access, refresh_token: refresh.token, token_type: 'bearer' as const, expires_in: config.ACCESS_TOKEN_TTL_SECONDS };
    return { tokenId, pair };
  }

  async function startSession(tx: Tx, user: { id: string; role: repo.Role }, now: Date) {
    const { pair } = await issueTokens(tx, user, randomUUID(), now);
    const profile = await findOwnProfile(tx, user.id);
    return { user: presentOwnProfile(profile!), ...pair };
  }

  /** Counts the attempt against `email`; throws ACCOUNT_LOCKED (nothing counted) while it is locked. */
  async function admit(tx: Tx, email: string, now: Date, log?: FastifyBaseLogger) {
    const attempt = admitAttempt(await repo.lockThrottle(tx, email, now), now);
    if (attempt.locked) {
      log?.warn({ event: 'auth.locked_attempt' }, 'login attempt on a locked email refused');
      throw new AppError('ACCOUNT_LOCKED', `Too many failed attempts; try again in ${Math.ceil(attempt.retryAfterSeconds / 60)} minute(s)`, {
        headers: { 'retry-after': String(attempt.retryAfterSeconds) },
      });
    }
    await repo.saveThrottle(tx, email, attempt.next);
    if (attempt.next.locked_until) log?.warn({ event: 'auth.lockout' }, 'email locked after repeated failed logins');
  }

  async function signup(body: Signup) {
    const email = normaliseEmail(body.email);
    const displayName = normaliseDisplayName(body.display_name);
    assertStrongPassword(body.password, 'body.password');
    const passwordHash = await hasher.hash(body.password);
    const id = randomUUID();
    const now = clock.now();
    try {
      // The RLS insert policy on users requires id = the caller: the new id is the caller here.
      return await db.withUser(id, async (tx) => {
        await repo.insertAccount(tx, { id, email, passwordHash, displayName, role: 'user', now });
        return startSession(tx, { id, role: 'user' }, now);
      });
    } catch (err) {
      if (pgErrorCode(err) === PG.UNIQUE_VIOLATION) throw new AppError('EMAIL_TAKEN', 'An account with this email already exists');
      throw err;
    }
  }

  async function login(body: Login, log?: FastifyBaseLogger) {
    // Not validated as an address: whatever was typed is simply an unknown account, and is locked
    // out like any other after repeated failures.
    const email = body.email.trim().toLowerCase();
    const now = clock.now();
    const account = await db.withSystem(async (tx) => {
      await admit(tx, email, now, log);
      return repo.findCredentialsByEmail(tx, email);
    });
    // Same work either way, and the same error below: unknown email ≡ wrong password.
    const ok = account ? await hasher.verify(account.password_hash, body.password) : (await hasher.verifyDummy(body.password), false);
    if (!account || !ok) {
      log?.info({ event: 'auth.login_failed' }, 'login failed');
      throw invalidCredentials();
    }
    await db.withSystem((tx) => repo.clearThrottle(tx, email));
    const rehash = hasher.needsRehash(account.password_hash) ? await hasher.hash(body.password) : undefined;
    return db.withUser(account.id, async (tx) => {
      if (rehash) await repo.updatePasswordHash(tx, account.id, rehash, now);
      return startSession(tx, account, now);
    });
  }

  async function refresh(token: string, log?: FastifyBaseLogger) {
    const hash = hashRefreshToken(token);
    const owner = await db.withSystem((tx) => repo.findRefreshTokenOwner(tx, hash));
    if (!owner) throw invalidRefreshToken();
    const now = clock.now();
    // The outcome is returned, not thrown, so that revoking a family on reuse is committed.
    const outcome = await db.withUser(owner, async (tx) => {
      const row = await repo.lockRefreshToken(tx, hash);
      if (!row || row.revoked_at || row.expires_at <= now) return { kind: 'invalid' as const };
      if (row.rotated_at) {
        // Rotated tokens are never presented by an honest client: someone holds a copy.
        await repo.revokeFamily(tx, row.family_id, now);
        return { kind: 'reuse' as const, familyId: row.family_id };
      }
      const account = await repo.findCredentialsById(tx, owner);
      if (!account) return { kind: 'invalid' as const };
      const { tokenId, pair } = await issueTokens(tx, account, row.family_id, now);
      await repo.markRotated(tx, row.id, tokenId, now);
      return { kind: 'ok' as const, pair };
    });
    if (outcome.kind === 'reuse') {
      log?.warn({ event: 'auth.refresh_reuse', user_id: owner, session_id: outcome.familyId }, 'rotated refresh token reused: session revoked');
    }
    if (outcome.kind !== 'ok') throw invalidRefreshToken();
    return outcome.pair;
  }

  /** Ends the caller's current session (and the given token's, if another), or all of them. */
  async function logout(user: AuthUser, body: Logout) {
    const now = clock.now();
    await db.withUser(user.id, async (tx) => {
      if (body.all_sessions) {
        await repo.revokeUserFamilies(tx, user.id, now);
        return;
      }
      await repo.revokeFamily(tx, user.sessionId, now);
      // RLS: someone else's token is simply not found here.
      const family = body.refresh_token ? await repo.familyOfToken(tx, hashRefreshToken(body.refresh_token)) : undefined;
      if (family && family !== user.sessionId) await repo.revokeFamily(tx, family, now);
    });
  }

  async function changePassword(user: AuthUser, body: PasswordChange, log?: FastifyBaseLogger) {
    assertStrongPassword(body.new_password, 'body.new_password');
    if (body.new_password === body.current_password) throw invalid('body.new_password', 'must differ from the current password');
    const account = await db.withUser(user.id, (tx) => repo.findCredentialsById(tx, user.id));
    if (!account) throw new AppError('UNAUTHENTICATED', 'This account no longer exists');
    const email = account.email.toLowerCase();
    const now = clock.now();
    // A stolen access token must not become a way around the login lockout: wrong current
    // passwords count against the same email.
    await db.withSystem((tx) => admit(tx, email, now, log));
    if (!(await hasher.verify(account.password_hash, body.current_password))) {
      throw invalid('body.current_password', 'is not the current password');
    }
    await db.withSystem((tx) => repo.clearThrottle(tx, email));
    const passwordHash = await hasher.hash(body.new_password);
    await db.withUser(user.id, async (tx) => {
      await repo.updatePasswordHash(tx, user.id, passwordHash, now);
      await repo.revokeUserFamilies(tx, user.id, now, user.sessionId);
    });
  }

  return { signup, login, refresh, logout, changePassword, me: (user: AuthUser) => users.ownProfile(user.id) };
}

export type AuthService = ReturnType<typeof createAuthService>;

/**
 * `darezone create-admin`: promotes an existing account (password unchanged), or creates one with
 * the password `readPassword` supplies. Runs as darezone_jobs: the API role cannot set `role`.
 */
export async function provisionAdmin(
  deps: Pick<AuthDeps, 'db' | 'clock' | 'hasher'>,
  emailInput: string,
  readPassword: () => Promise<string>,
): Promise<{ id: string; email: string; created: boolean }> {
  const email = normaliseEmail(emailInput, '--email');
  const existing = await deps.db.withSystem((tx) => repo.findCredentialsByEmail(tx, email));
  const now = deps.clock.now();
  if (existing) {
    await deps.db.withSystem((tx) => repo.setRole(tx, existing.id, 'admin', now));
    return { id: existing.id, email: existing.email, created: false };
  }
  const password = await readPassword();
  assertStrongPassword(password, 'password');
  const passwordHash = await deps.hasher.hash(password);
  const id = randomUUID();
  const displayName = normaliseDisplayName(email.split('@')[0]!.slice(0, 50), 'display_name');
  await deps.db.withSystem((tx) => repo.insertAccount(tx, { id, email, passwordHash, displayName, role: 'admin', now }));
  return { id, email, created: true };
}
