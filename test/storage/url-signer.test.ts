import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devSigningKey, signerFromConfig, UrlSigner } from '../../src/storage/url-signer.js';
import { tempDataDir } from '../modules/media/helpers.js';

const now = new Date('2026-06-15T12:00:00Z');
const inOneMinute = Math.floor(now.getTime() / 1000) + 60;
const parse = (q: string) => Object.fromEntries(new URLSearchParams(q)) as { expires: string; sig: string };

describe('signed media URLs', () => {
  const signer = new UrlSigner(() => Buffer.from('a-signing-key-of-at-least-32-characters!'));
  const id = randomUUID();
  const { expires, sig } = parse(signer.query(id, inOneMinute));

  it('valid until the expiry, expired from then on', () => {
    expect(signer.verify(id, Number(expires), sig, now)).toBe('valid');
    expect(signer.verify(id, Number(expires), sig, new Date((inOneMinute - 1) * 1000))).toBe('valid');
    expect(signer.verify(id, Number(expires), sig, new Date(inOneMinute * 1000))).toBe('expired');
  });

  it('any change to the id, the expiry or the signature is invalid', () => {
    expect(signer.verify(randomUUID(), Number(expires), sig, now)).toBe('invalid');
    expect(signer.verify(id, Number(expires) + 3600, sig, now)).toBe('invalid');
    const flipped = `${sig.slice(0, -2)}${sig.endsWith('A') ? 'B' : 'A'}${sig.slice(-1)}`;
    expect(signer.verify(id, Number(expires), flipped, now)).toBe('invalid');
    expect(signer.verify(id, Number(expires), '', now)).toBe('invalid');
    // The last base64url character carries 4 bits of the MAC and 2 unused ones: a spelling that
    // decodes to the same bytes is still not the URL we issued.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(sig.at(-1)!);
    const sameBytes = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last ^ 1]!;
    expect(Buffer.from(`${sig.slice(0, -1)}${sameBytes}`, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    expect(signer.verify(id, Number(expires), `${sig.slice(0, -1)}${sameBytes}`, now)).toBe('invalid');
    expect(signer.verify(id, Number(expires), 'not base64 at all!!', now)).toBe('invalid');
  });

  it('a URL signed with another key is invalid', () => {
    const other = new UrlSigner(() => Buffer.from('another-signing-key-of-32-characters-or-more'));
    expect(other.verify(id, Number(expires), sig, now)).toBe('invalid');
  });
});

describe('signing key', () => {
  it('development: generated once in DATA_DIR (mode 0600) and reused by every process', () => {
    const dir = tempDataDir();
    const first = devSigningKey(dir);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(devSigningKey(dir).equals(first)).toBe(true);
    const file = path.join(dir, '.media-signing-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.toString('base64url'));
  });

  it('MEDIA_SIGNING_KEY wins; production never generates one', () => {
    const dir = tempDataDir();
    const configured = signerFromConfig({ MEDIA_SIGNING_KEY: 'x'.repeat(40), dataDir: dir, isProduction: true });
    const { expires, sig } = parse(configured.query('m', inOneMinute));
    expect(new UrlSigner(() => Buffer.from('x'.repeat(40))).verify('m', Number(expires), sig, now)).toBe('valid');
    const missing = signerFromConfig({ dataDir: dir, isProduction: true });
    expect(() => missing.query('m', inOneMinute)).toThrow(/MEDIA_SIGNING_KEY/);
  });
});
