// Backup encryption: AES-256-GCM with a fresh random 12-byte IV per file.
// File format: "DZB1" | IV (12) | ciphertext | tag (16). Encryption streams; decryption reads the
// tag from the end of the file first, then streams the ciphertext (GCM rejects a tampered or
// wrongly-keyed file at the end, so callers decrypt to a temporary file before trusting the bytes).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';

const MAGIC = Buffer.from('DZB1');
const IV_LEN = 12;
const TAG_LEN = 16;
export const HEADER_LEN = MAGIC.length + IV_LEN;

export class BackupKeyError extends Error {
  override name = 'BackupKeyError';
}

/** BACKUP_ENCRYPTION_KEY: 32 bytes as base64 or 64 hex characters. */
export function parseBackupKey(text: string | undefined): Buffer | undefined {
  if (!text) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new BackupKeyError('BACKUP_ENCRYPTION_KEY must be 32 bytes (base64, or 64 hex characters)');
  return key;
}

/** A short public fingerprint of the key (stored in manifests: which key a backup needs). */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('darezone-backup-key-id').update(key).digest('hex').slice(0, 16);
}

export function encryptStream(key: Buffer): Transform {
  const iv = randomBytes(IV_LEN);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  let headerSent = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!headerSent) {
        this.push(Buffer.concat([MAGIC, iv]));
        headerSent = true;
      }
      cb(null, cipher.update(chunk));
    },
    flush(cb) {
      if (!headerSent) this.push(Buffer.concat([MAGIC, iv]));
      const final = cipher.final();
      cb(null, Buffer.concat([final, cipher.getAuthTag()]));
    },
  });
}

/** A plaintext stream of an encrypted file; errors (at the end) on a wrong key or tampering. */
export async function decryptFile(file: string, key: Buffer): Promise<Readable> {
  const fh = await open(file, 'r');
  let header: Buffer;
  let tag: Buffer;
  let size: number;
  try {
    size = (await fh.stat()).size;
    if (size < HEADER_LEN + TAG_LEN) throw new BackupKeyError(`${file} is not an encrypted backup file (too short)`);
    header = Buffer.alloc(HEADER_LEN);
    await fh.read(header, 0, HEADER_LEN, 0);
    tag = Buffer.alloc(TAG_LEN);
    await fh.read(tag, 0, TAG_LEN, size - TAG_LEN);
  } finally {
    await fh.close();
  }
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) throw new BackupKeyError(`${file} is not an encrypted backup file`);
  const decipher = createDecipheriv('aes-256-gcm', key, header.subarray(MAGIC.length));
  decipher.setAuthTag(tag);
  const body: Readable = size - TAG_LEN > HEADER_LEN ? createReadStream(file, { start: HEADER_LEN, end: size - TAG_LEN - 1 }) : Readable.from([]);
  const out = body.pipe(decipher);
  body.on('error', (err) => out.destroy(err));
  return out;
}

export function isDecryptError(err: unknown): boolean {
  return err instanceof Error && /unable to authenticate data|Unsupported state/i.test(err.message);
}
