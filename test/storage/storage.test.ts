// The storage contract, run against both stores: the local disk and a real S3-compatible server
// (s3rver on loopback). Whatever the media module, the jobs or backups rely on holds for both.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/storage/local.js';
import { S3Storage } from '../../src/storage/s3.js';
import { ObjectNotFoundError, type Storage } from '../../src/storage/types.js';
import { UrlSigner } from '../../src/storage/url-signer.js';
import { tempDataDir } from '../modules/media/helpers.js';
import { startS3, type TestS3 } from './s3-server.js';

let s3: TestS3;
const root = path.join(tempDataDir(), 'media');
const signer = new UrlSigner(() => Buffer.from('k'.repeat(40)));
const stores: Record<'local' | 's3', () => Storage> = {
  local: () => new LocalStorage({ root, signer, baseUrl: '' }),
  s3: () =>
    new S3Storage({
      bucket: s3.bucket,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      keyPrefix: 'media/',
    }),
};

beforeAll(async () => {
  s3 = await startS3();
});
afterAll(() => s3.close());

const key = (ext = 'jpg') => `${randomUUID()}/${randomUUID()}.${ext}`;
const collect = async (s: Storage) => {
  const out: string[] = [];
  for await (const o of s.list()) out.push(o.key);
  return out;
};

describe.each(['local', 's3'] as const)('%s store', (kind) => {
  let store: Storage;
  beforeAll(() => {
    store = stores[kind]();
  });
  afterAll(() => store.close());

  it('put (buffer or stream) → stat, exists, getStream give back the same bytes', async () => {
    const k1 = key();
    const k2 = key('mp4');
    await store.put(k1, Buffer.from('hello bytes'), { contentType: 'image/jpeg', size: 11 });
    await store.put(k2, Readable.from([Buffer.from('abc'), Buffer.from('defgh')]), { contentType: 'video/mp4', size: 8 });
    expect(await store.exists(k1)).toBe(true);
    expect(await store.stat(k2)).toMatchObject({ key: k2, size: 8 });
    expect(await text(await store.getStream(k1))).toBe('hello bytes');
    expect(await text(await store.getStream(k2))).toBe('abcdefgh');
    expect(await text(await store.getStream(k2, { start: 2, end: 4 }))).toBe('cde');
  });

  it('delete is idempotent; a missing key reads as ObjectNotFoundError / null / false', async () => {
    const k = key();
    await store.put(k, Buffer.from('x'), { contentType: 'image/jpeg', size: 1 });
    await store.delete(k);
    await store.delete(k);
    expect(await store.exists(k)).toBe(false);
    expect(await store.stat(k)).toBeNull();
    await expect(store.getStream(k)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('list yields stored objects with size and time, and never the readiness probes', async () => {
    const k = key('webp');
    await store.put(k, Buffer.from('12345'), { contentType: 'image/webp', size: 5 });
    await store.checkWritable();
    const listed: { key: string; size: number; lastModified: Date }[] = [];
    for await (const o of store.list()) listed.push(o);
    expect(listed.find((o) => o.key === k)).toMatchObject({ size: 5 });
    expect(listed.every((o) => !o.key.startsWith('.'))).toBe(true);
    expect(listed.every((o) => o.lastModified instanceof Date)).toBe(true);
  });

  it('refuses keys that are not server-generated relative names', async () => {
    for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../b', '.tmp/x', '', 'a//b', 'a/', 'a b']) {
      await expect(store.put(bad, Buffer.from('x'), { contentType: 'image/jpeg', size: 1 }), bad).rejects.toThrow(/invalid storage key/);
      await expect(store.getStream(bad), bad).rejects.toThrow(/invalid storage key/);
    }
  });

  it('checkWritable writes and removes a probe', async () => {
    const before = await collect(store);
    await store.checkWritable();
    expect(await collect(store)).toEqual(before);
  });
});

describe('local store specifics', () => {
  const store = new LocalStorage({ root, signer, baseUrl: 'https://api.example.test' });

  it('a write that fails midway leaves nothing under the key and no temp file', async () => {
    const k = key();
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.put(k, failing, { contentType: 'image/jpeg', size: 5000 })).rejects.toThrow();
    expect(existsSync(path.join(root, k))).toBe(false);
    expect(readdirSync(path.join(root, '.tmp'))).toEqual([]);
  });

  it('a short write (size mismatch) is refused and not stored', async () => {
    const k = key();
    await expect(store.put(k, Buffer.from('abc'), { contentType: 'image/jpeg', size: 4 })).rejects.toThrow(/expected 4/);
    expect(await store.exists(k)).toBe(false);
  });

  it('signed URLs: /media/files/<id>?expires&sig under the configured base URL', async () => {
    const id = randomUUID();
    const url = new URL(
      await store.signedUrl({ key: key(), id, contentType: 'image/jpeg', contentDisposition: 'inline', expiresInSeconds: 60, now: new Date('2026-01-01T00:00:00Z') }),
    );
    expect(url.origin + url.pathname).toBe(`https://api.example.test/media/files/${id}`);
    expect(url.searchParams.get('expires')).toBe(String(Date.parse('2026-01-01T00:01:00Z') / 1000));
    expect(signer.verify(id, Number(url.searchParams.get('expires')), url.searchParams.get('sig')!, new Date('2026-01-01T00:00:30Z'))).toBe('valid');
  });
});

describe('S3 store specifics', () => {
  it('a presigned URL serves the bytes with the content type and disposition it pins', async () => {
    const store = stores.s3();
    const k = key();
    await store.put(k, Buffer.from('jpeg-bytes'), { contentType: 'image/jpeg', size: 10 });
    const url = await store.signedUrl({ key: k, id: 'x', contentType: 'image/jpeg', contentDisposition: 'inline; filename="x.jpg"', expiresInSeconds: 60, now: new Date() });
    expect(url.startsWith(`${s3.endpoint}/${s3.bucket}/media/`)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-disposition')).toBe('inline; filename="x.jpg"');
    expect(res.headers.get('cache-control')).toBe('private, max-age=60');
    expect(await res.text()).toBe('jpeg-bytes');
    await store.close();
  });
});
