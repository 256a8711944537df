// Password hashing (argon2id) and the password policy (§3 Accounts). Hashing runs on libuv's thread
// pool (native @node-rs/argon2), so a login never blocks the event loop.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';

// `Algorithm` is an ambient const enum, which isolatedModules cannot inline: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

// Resolved from the project root so the same path works from src/ (tsx) and dist/ (compiled): both
// sit three levels below it. The production image must ship this file (it is data, not code).
const COMMON_PASSWORDS_FILE = new URL('../../../src/modules/auth/common-passwords.txt', import.meta.url);

function loadCommonPasswords(): Set<string> {
  const lines = readFileSync(COMMON_PASSWORDS_FILE, 'utf8').split('\n');
  return new Set(lines.map((l) => l.trim().toLowerCase()).filter((l) => l !== '' && !l.startsWith('#')));
}

// Loaded once at start-up; a missing file stops the process rather than silently accepting
// "password123".
const COMMON_PASSWORDS = loadCommonPasswords();

/** Code points, not UTF-16 units: an emoji counts as one character, as a person would count it. */
const lengthOf = (s: string) => [...s].length;

/** Why `password` is not acceptable as a new password, or null when it is. */
export function passwordWeakness(password: string): string | null {
  const length = lengthOf(password);
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  if (COMMON_PASSWORDS.has(password.trim().toLowerCase())) return 'is too common; choose a less predictable password';
  return null;
}

export function assertStrongPassword(password: string, path: string): void {
  const weakness = passwordWeakness(password);
  if (weakness) throw new AppError('WEAK_PASSWORD', `${path} ${weakness}`, { errors: [{ path, message: weakness }] });
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a hash that cannot be parsed (never throws on bad input). */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /**
   * Spends the same time as verify() without an account, so an unknown email cannot be told apart
   * from a wrong password by the response time.
   */
  verifyDummy(password: string): Promise<void>;
  /** The hash was made with other parameters than today's config (rehash after a successful login). */
  needsRehash(passwordHash: string): boolean;
}

export async function createPasswordHasher(config: Pick<Config, 'ARGON2_MEMORY_KIB' | 'ARGON2_ITERATIONS'>): Promise<PasswordHasher> {
  // Parallelism 1: a server hashing for many users at once gains nothing from splitting one hash
  // over threads, and the OWASP baseline (19 MiB, t=2, p=1) assumes it.
  const options: Options = {
    algorithm: ARGON2ID,
    memoryCost: config.ARGON2_MEMORY_KIB,
    timeCost: config.ARGON2_ITERATIONS,
    parallelism: 1,
  };
  const dummyHash = await hash(randomBytes(32).toString('base64url'), options);
  const check = async (passwordHash: string, password: string) => {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  };
  return {
    hash: (password) => hash(password, options),
    verify: check,
    async verifyDummy(password) {
      await check(dummyHash, password);
    },
    needsRehash(passwordHash) {
      try {
        const p = parseOptions(passwordHash);
        return p.algorithm !== ARGON2ID || p.memoryCost !== options.memoryCost || p.timeCost !== options.timeCost || p.parallelism !== 1;
      } catch {
        return true;
      }
    },
  };
}
