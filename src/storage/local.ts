// Media on the local disk under DATA_DIR/media (one machine). Every write goes to a temporary file
// in DATA_DIR/media/.tmp (same file system), is flushed, then renamed into place: a crash leaves a
// stray temp file, never a half-written object under a real key. Paths are built only from
// validated, server-generated keys and checked to stay under the root.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UrlSigner } from './url-signer.js';
import { assertValidKey, ObjectNotFoundError, type ByteRange, type PutOptions, type SignedUrlRequest, type Storage, type StoredObject } from './types.js';

export const LOCAL_TMP_DIR = '.tmp';

export interface LocalStorageOptions {
  root: string;
  signer: UrlSigner;
  /** Origin (and optional path) put in front of /media/files/...; '' = root-relative URLs. */
  baseUrl: string;
}

export class LocalStorage implements Storage {
  readonly kind = 'local' as const;
  readonly root: string;
  private readonly tmpDir: string;

  constructor(private readonly opts: LocalStorageOptions) {
    this.root = path.resolve(opts.root);
    this.tmpDir = path.join(this.root, LOCAL_TMP_DIR);
  }

  /** Signs and verifies this store's URLs (the /media/files route verifies with it). */
  get signer(): UrlSigner {
    return this.opts.signer;
  }

  pathFor(key: string): string {
    assertValidKey(key);
    const full = path.resolve(this.root, key);
    if (!full.startsWith(this.root + path.sep)) throw new Error('storage key escapes the media directory');
    return full;
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions): Promise<void> {
    const target = this.pathFor(key);
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = path.join(this.tmpDir, `${randomUUID()}.part`);
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true }));
      const written = (await stat(tmp)).size;
      if (written !== opts.size) throw new Error(`stored ${written} bytes, expected ${opts.size}`);
      await mkdir(path.dirname(target), { recursive: true });
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const handle = await open(this.pathFor(key), 'r');
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(this.pathFor(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathFor(key), { force: true });
  }

  async signedUrl(req: SignedUrlRequest): Promise<string> {
    const expires = Math.floor(req.now.getTime() / 1000) + req.expiresInSeconds;
    return `${this.opts.baseUrl}/media/files/${req.id}?${this.opts.signer.query(req.id, expires)}`;
  }

  async *list(prefix = ''): AsyncIterable<StoredObject> {
    let entries;
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const key = path.relative(this.root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      if (key.startsWith('.') || !key.startsWith(prefix)) continue; // .tmp and other internal files
      const s = await stat(path.join(entry.parentPath, entry.name)).catch(() => null);
      if (s) yield { key, size: s.size, lastModified: s.mtime };
    }
  }

  async checkWritable(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    const probe = path.join(this.tmpDir, `ready-${randomUUID()}`);
    await writeFile(probe, 'ok', { flag: 'wx' });
    await unlink(probe);
  }

  /** Temp files older than `olderThanMs` (left by a crash mid-write). */
  async removeStaleTemp(olderThanMs: number, now: Date): Promise<number> {
    let removed = 0;
    const names = await readdir(this.tmpDir).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(this.tmpDir, name);
      const s = await stat(file).catch(() => null);
      if (s && now.getTime() - s.mtimeMs > olderThanMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {}
}
