// Access-token keys. HS256 with a key id so keys rotate without logging everyone out: the first key
// signs, every listed key verifies. In development a random key is generated once and kept in
// DATA_DIR (mode 0600); production refuses to start without a configured key (config.ts).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Config } from '../config.js';

export const TOKEN_ISSUER = 'darezone';
export const TOKEN_AUDIENCE = 'darezone-api';
const ALGORITHM = 'HS256';

export interface AccessClaims {
  sub: string;
  role: 'user' | 'admin';
  sid: string;
}

export interface KeySet {
  signing: { kid: string; key: Uint8Array };
  byKid: Map<string, Uint8Array>;
}

const encoder = new TextEncoder();

function devSecret(dataDir: string): string {
  const file = path.join(dataDir, '.jwt-dev-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}

export function loadKeySet(config: Pick<Config, 'JWT_KEYS' | 'JWT_SECRET' | 'isProduction' | 'dataDir'>): KeySet {
  let entries: [string, string][];
  if (config.JWT_KEYS) {
    entries = config.JWT_KEYS.split(',').map((pair) => {
      const i = pair.indexOf(':');
      return [pair.slice(0, i), pair.slice(i + 1)];
    });
  } else if (config.JWT_SECRET) {
    entries = [['k1', config.JWT_SECRET]];
  } else {
    if (config.isProduction) throw new Error('JWT_SECRET: required when APP_ENV=production');
    entries = [['dev', devSecret(config.dataDir)]];
  }
  const byKid = new Map(entries.map(([kid, secret]) => [kid, encoder.encode(secret)]));
  const [kid, secret] = entries[0]!;
  return { signing: { kid, key: encoder.encode(secret) }, byKid };
}

export async function signAccessToken(keys: KeySet, claims: AccessClaims, ttlSeconds: number, now: Date) {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ role: claims.role, sid: claims.sid })
    .setProtectedHeader({ alg: ALGORITHM, kid: keys.signing.kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(keys.signing.key);
}

/** Returns the claims, or null for any invalid token (bad signature, unknown kid, expired, alg≠HS256). */
export async function verifyAccessToken(keys: KeySet, token: string, now: Date): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? keys.byKid.get(header.kid) : undefined;
        if (!key) throw new joseErrors.JWSSignatureVerificationFailed('unknown key id');
        return key;
      },
      {
        algorithms: [ALGORITHM],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        currentDate: now,
        requiredClaims: ['sub', 'exp', 'iat'],
      },
    );
    const role = payload.role === 'admin' ? 'admin' : 'user';
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return null;
    return { sub: payload.sub, role, sid: payload.sid };
  } catch {
    return null;
  }
}
