// Signed URLs for the local store: /media/files/<id>?expires=<unix seconds>&sig=<HMAC>. The
// signature is HMAC-SHA256 over the media id and the expiry with MEDIA_SIGNING_KEY, so a URL works
// for one object until it expires and cannot be edited into another one. In development a random
// key is generated once and kept in DATA_DIR (like the JWT dev secret); production refuses to start
// without MEDIA_SIGNING_KEY when media are stored locally (config.ts).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type Verdict = 'valid' | 'expired' | 'invalid';

export class UrlSigner {
  private key: Buffer | undefined;

  /** `loadKey` runs on first use, so building the app (e.g. for the OpenAPI document) writes nothing. */
  constructor(private readonly loadKey: () => Buffer) {}

  private secret(): Buffer {
    this.key ??= this.loadKey();
    return this.key;
  }

  private mac(id: string, expires: number): Buffer {
    return createHmac('sha256', this.secret()).update(`darezone-media-v1\n${id}\n${expires}`).digest();
  }

  /** Query string (without "?") for a URL to `id` valid until `expires` (unix seconds). */
  query(id: string, expires: number): string {
    return `expires=${expires}&sig=${this.mac(id, expires).toString('base64url')}`;
  }

  verify(id: string, expires: number, sig: string, now: Date): Verdict {
    // The text is compared, not the decoded bytes: base64 decoders ignore the unused low bits of the
    // last character, so several spellings decode to the same MAC. Only the one we issued counts.
    const given = Buffer.from(sig, 'latin1');
    const expected = Buffer.from(this.mac(id, expires).toString('base64url'), 'latin1');
    // Compared before the expiry so that the answer for a forged URL never depends on its expiry.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return expires * 1000 > now.getTime() ? 'valid' : 'expired';
  }
}

/**
 * The development key, created atomically (temp file + link) so parallel processes sharing
 * DATA_DIR (test workers, a CLI next to the server) all end up with the same key.
 */
export function devSigningKey(dataDir: string): Buffer {
  const file = path.join(dataDir, '.media-signing-key');
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, randomBytes(48).toString('base64url'), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process won the race: use its key
  } finally {
    unlinkSync(tmp);
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
}

export function signerFromConfig(config: { MEDIA_SIGNING_KEY?: string; dataDir: string; isProduction: boolean }): UrlSigner {
  return new UrlSigner(() => {
    if (config.MEDIA_SIGNING_KEY) return Buffer.from(config.MEDIA_SIGNING_KEY, 'utf8');
    if (config.isProduction) throw new Error('MEDIA_SIGNING_KEY: required when APP_ENV=production');
    return devSigningKey(config.dataDir);
  });
}
