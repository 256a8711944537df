// Files of a backup directory: hashing, atomic writes, gzip (+ encryption) pipelines.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { decryptFile, encryptStream } from './crypto.js';

export function hasher(): { tap: Transform; digest: () => string; size: () => number } {
  const h = createHash('sha256');
  let n = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
  });
  let hex: string | undefined;
  return { tap, digest: () => (hex ??= h.digest('hex')), size: () => n };
}

export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Streams `source` through gzip (optional) and encryption (optional) into `target` via a temporary
 * name. Returns the plaintext sha256/size (what was read) and the stored bytes' sha256/size.
 */
export async function writeStored(
  source: Readable,
  target: string,
  opts: { gzip: boolean; key?: Buffer | undefined },
): Promise<{ plain: { sha256: string; size: number }; stored: { sha256: string; size: number } }> {
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${randomBytes(4).toString('hex')}.part`;
  const plain = hasher();
  const stored = hasher();
  const stages: NodeJS.ReadWriteStream[] = [plain.tap];
  if (opts.gzip) stages.push(createGzip({ level: 6 }));
  if (opts.key) stages.push(encryptStream(opts.key));
  stages.push(stored.tap);
  try {
    await pipeline([source, ...stages, createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true })]);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { plain: { sha256: plain.digest(), size: plain.size() }, stored: { sha256: stored.digest(), size: stored.size() } };
}

/** The plaintext of a stored file (decrypt, gunzip); errors surface when the stream is consumed. */
export async function readStored(file: string, opts: { gzip: boolean; key?: Buffer | undefined }): Promise<Readable> {
  let stream: Readable = opts.key ? await decryptFile(file, opts.key) : createReadStream(file);
  if (opts.gzip) {
    const gunzip = createGunzip();
    const src = stream;
    src.on('error', (err) => gunzip.destroy(err));
    stream = src.pipe(gunzip);
  }
  const out = new PassThrough();
  stream.on('error', (err) => out.destroy(err));
  return stream.pipe(out);
}

export async function readStoredToFile(file: string, target: string, opts: { gzip: boolean; key?: Buffer | undefined }): Promise<void> {
  await pipeline(await readStored(file, opts), createWriteStream(target, { mode: 0o600 }));
}
