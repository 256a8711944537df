// SQL for credentials, sessions (refresh-token families) and the login lockout. Every function takes
// the transaction it runs in; which role that transaction has (withUser / withSystem) is the
// service's decision and is noted on each function. Times always come from the caller's clock.
import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';

export type Role = 'user' | 'admin';

export interface Credentials {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
}

/** withUser(id) at sign-up (RLS: id must be the caller, role 'user'); withSystem for create-admin. */
export async function insertAccount(
  tx: Tx,
  a: { id: string; email: string; passwordHash: string; displayName: string; role: Role; now: Date },
): Promise<void> {
  await tx.execute(sql`insert into users (id, email, password_hash, role, created_at, updated_at)
    values (${a.id}, ${a.email}, ${a.passwordHash}, ${a.role}, ${a.now}, ${a.now})`);
  await tx.execute(sql`insert into user_profiles (user_id, display_name, created_at, updated_at)
    values (${a.id}, ${a.displayName}, ${a.now}, ${a.now})`);
}

/** Matches the lower(email) unique index. withSystem (pre-auth). */
export function findCredentialsByEmail(tx: Tx, email: string): Promise<Credentials | undefined> {
  return tx.one<Credentials>(sql`select id, email, password_hash, role from users where lower(email) = lower(${email})`);
}

/** withUser(id): RLS lets a user read only their own row. */
export function findCredentialsById(tx: Tx, id: string): Promise<Credentials | undefined> {
  return tx.one<Credentials>(sql`select id, email, password_hash, role from users where id = ${id}`);
}

export async function updatePasswordHash(tx: Tx, id: string, passwordHash: string, now: Date): Promise<void> {
  await tx.execute(sql`update users set password_hash = ${passwordHash}, updated_at = ${now} where id = ${id}`);
}

/** withSystem only: darezone_api has no UPDATE privilege on users.role. */
export async function setRole(tx: Tx, id: string, role: Role, now: Date): Promise<void> {
  await tx.execute(sql`update users set role = ${role}, updated_at = ${now} where id = ${id}`);
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens. One family per sign-in; each refresh adds a row and marks its parent rotated.

export interface RefreshTokenRow {
  id: string;
  user_id: string;
  family_id: string;
  expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
}

export async function insertRefreshToken(
  tx: Tx,
  t: { id: string; userId: string; familyId: string; hash: string; now: Date; expiresAt: Date },
): Promise<void> {
  await tx.execute(sql`insert into refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at)
    values (${t.id}, ${t.userId}, ${t.familyId}, ${t.hash}, ${t.now}, ${t.expiresAt})`);
}

/** withSystem: who does this token belong to (before we know who is asking)? */
export async function findRefreshTokenOwner(tx: Tx, hash: string): Promise<string | undefined> {
  const row = await tx.one<{ user_id: string }>(sql`select user_id from refresh_tokens where token_hash = ${hash}`);
  return row?.user_id;
}

/** withUser: the row, locked, so two concurrent refreshes of one token are decided one after the other. */
export function lockRefreshToken(tx: Tx, hash: string): Promise<RefreshTokenRow | undefined> {
  return tx.one<RefreshTokenRow>(sql`select id, user_id, family_id, expires_at, rotated_at, revoked_at
    from refresh_tokens where token_hash = ${hash} for update`);
}

export async function markRotated(tx: Tx, id: string, replacedBy: string, now: Date): Promise<void> {
  await tx.execute(sql`update refresh_tokens set rotated_at = ${now}, replaced_by = ${replacedBy} where id = ${id}`);
}

export function revokeFamily(tx: Tx, familyId: string, now: Date): Promise<number> {
  return tx.execute(sql`update refresh_tokens set revoked_at = ${now} where family_id = ${familyId} and revoked_at is null`);
}

/** Every family of the user, or every one but `keepFamilyId`. RLS already limits this to the caller. */
export function revokeUserFamilies(tx: Tx, userId: string, now: Date, keepFamilyId?: string): Promise<number> {
  const keep = keepFamilyId ? sql`and family_id <> ${keepFamilyId}` : sql``;
  return tx.execute(sql`update refresh_tokens set revoked_at = ${now}
    where user_id = ${userId} and revoked_at is null ${keep}`);
}

export async function familyOfToken(tx: Tx, hash: string): Promise<string | undefined> {
  const row = await tx.one<{ family_id: string }>(sql`select family_id from refresh_tokens where token_hash = ${hash}`);
  return row?.family_id;
}

// ---------------------------------------------------------------------------------------------
// Login lockout (withSystem: login_throttle belongs to darezone_jobs). Keyed by the normalised
// email whether or not an account exists, so a lockout reveals nothing about registration. The
// database's lower() normalises, so the key always satisfies the table's check whatever Unicode a
// client sends (JavaScript's toLowerCase can disagree with it on a few characters).

export interface ThrottleRow {
  failures: number;
  window_started_at: Date;
  locked_until: Date | null;
}

/** Creates the row if needed and locks it until the transaction ends: the check-and-count is atomic. */
export async function lockThrottle(tx: Tx, email: string, now: Date): Promise<ThrottleRow> {
  await tx.execute(sql`insert into login_throttle (email_normalized, failures, window_started_at)
    values (lower(${email}), 0, ${now}) on conflict (email_normalized) do nothing`);
  const row = await tx.one<ThrottleRow>(sql`select failures, window_started_at, locked_until
    from login_throttle where email_normalized = lower(${email}) for update`);
  return row!;
}

export async function saveThrottle(tx: Tx, email: string, row: ThrottleRow): Promise<void> {
  await tx.execute(sql`update login_throttle
    set failures = ${row.failures}, window_started_at = ${row.window_started_at}, locked_until = ${row.locked_until}
    where email_normalized = lower(${email})`);
}

export async function clearThrottle(tx: Tx, email: string): Promise<void> {
  await tx.execute(sql`delete from login_throttle where email_normalized = lower(${email})`);
}
