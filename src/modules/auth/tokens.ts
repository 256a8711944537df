// Refresh tokens are opaque random strings; only their SHA-256 is stored, so a database leak does
// not hand out sessions. A fast hash is right here (unlike passwords): 256 random bits cannot be
// guessed, so there is nothing for a slow hash to slow down.
import { createHash, randomBytes } from 'node:crypto';

export const REFRESH_TOKEN_BYTES = 32;

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function refreshExpiry(now: Date, ttlDays: number): Date {
  return new Date(now.getTime() + ttlDays * 86_400_000);
}
