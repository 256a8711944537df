// Upload → read back → delete on the local store: what is stored is exactly what the row says
// (sha256, size, type), delivered with safe headers, and gone after a delete.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { jpeg, mp4, png, sha256, tempDataDir, upload, uploadParts, webp } from './helpers.js';

let t: TestContext;
let alice: TestUser;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir();
  t = await createTestApp({ env: { DATA_DIR: dataDir } });
  alice = await t.users.create();
});
afterAll(() => t.close());

const row = (id: string) =>
  t.db.withSystem((tx) => tx.one<{ storage_key: string; sha256: string; size_bytes: number; content_type: string; owner_id: string }>(
    sql`select storage_key, sha256, size_bytes, content_type, owner_id from media where id = ${id}`));
const fetchFile = (url: string, headers: Record<string, string> = {}) => t.app.inject({ url, headers });

describe('POST /api/v1/media → GET → bytes → DELETE (local store)', () => {
  it('a photo round trip: 201 with the metadata and a signed URL; the bytes served are the stored ones', async () => {
    const original = await jpeg(120, 80);
    const res = await upload(t, alice, 'photo', original);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ kind: 'photo', content_type: 'image/jpeg', width: 120, height: 80 });
    expect(body.url).toMatch(new RegExp(`^/media/files/${body.id}\\?expires=\\d+&sig=[A-Za-z0-9_-]{43}$`));

    const stored = (await row(body.id))!;
    expect(stored).toMatchObject({ owner_id: alice.id, content_type: 'image/jpeg', sha256: body.sha256, size_bytes: body.size });
    expect(stored.storage_key).toBe(`${alice.id}/${body.id}.jpg`);

    const file = await fetchFile(body.url);
    expect(file.statusCode).toBe(200);
    expect(sha256(file.rawPayload)).toBe(stored.sha256);
    expect(file.rawPayload.length).toBe(stored.size_bytes);
    expect(file.rawPayload.equals(original)).toBe(false); // re-encoded, not the upload
    expect(file.headers).toMatchObject({
      'content-type': 'image/jpeg',
      'x-content-type-options': 'nosniff',
      'content-disposition': `inline; filename="${body.id}.jpg"`,
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, max-age=300',
      'content-length': String(stored.size_bytes),
    });

    const meta = await t.app.inject({ url: `/api/v1/media/${body.id}`, headers: alice.auth });
    expect(meta.statusCode).toBe(200);
    expect(meta.json()).toMatchObject({ id: body.id, kind: 'photo', size: body.size, sha256: body.sha256 });
    expect(meta.json().url).toContain(`/media/files/${body.id}?`);

    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${body.id}`, headers: alice.auth });
    expect(del.statusCode).toBe(204);
    expect(await row(body.id)).toBeUndefined();
    expect(existsSync(path.join(dataDir, 'media', stored.storage_key))).toBe(false);
    expect((await fetchFile(body.url)).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/v1/media/${body.id}`, headers: alice.auth })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${body.id}`, headers: alice.auth })).statusCode).toBe(404);
  });

  it('PNG and WebP photos become JPEG; an image with transparency becomes WebP (alpha kept)', async () => {
    const fromPng = (await upload(t, alice, 'photo', await png(30, 20), { filename: 'a.png', contentType: 'image/png' })).json();
    expect(fromPng).toMatchObject({ content_type: 'image/jpeg', width: 30, height: 20 });
    const fromWebp = (await upload(t, alice, 'photo', await webp(40, 30), { filename: 'a.webp' })).json();
    expect(fromWebp).toMatchObject({ content_type: 'image/jpeg', width: 40, height: 30 });
    const withAlpha = (await upload(t, alice, 'photo', await png(16, 16, true))).json();
    expect(withAlpha.content_type).toBe('image/webp');
    const bytes = (await fetchFile(withAlpha.url)).rawPayload;
    expect(sha256(bytes)).toBe(withAlpha.sha256);
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'webp', hasAlpha: true });
  });

  it('an avatar becomes a 512×512 square', async () => {
    const res = await upload(t, alice, 'avatar', await jpeg(900, 300));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ kind: 'avatar', width: 512, height: 512, content_type: 'image/jpeg' });
    const bytes = (await fetchFile(res.json().url)).rawPayload;
    expect(await sharp(bytes).metadata()).toMatchObject({ width: 512, height: 512, format: 'jpeg' });
  });

  it('a video is stored byte for byte (MP4 and MOV brands), served as video with Range support', async () => {
    const video = mp4(200_000);
    const res = await upload(t, alice, 'video', video, { filename: 'clip.mp4', contentType: 'video/mp4' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ kind: 'video', content_type: 'video/mp4', size: video.length, sha256: sha256(video) });
    expect(body.width).toBeUndefined();
    const file = await fetchFile(body.url);
    expect(file.rawPayload.equals(video)).toBe(true);
    expect(file.headers['content-disposition']).toBe(`inline; filename="${body.id}.mp4"`);

    const part = await fetchFile(body.url, { range: 'bytes=100-199' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${video.length}`);
    expect(part.rawPayload.equals(video.subarray(100, 200))).toBe(true);
    const tail = await fetchFile(body.url, { range: 'bytes=-10' });
    expect(tail.rawPayload.equals(video.subarray(-10))).toBe(true);
    expect((await fetchFile(body.url, { range: 'bytes=999999999-' })).statusCode).toBe(200); // unsatisfiable: whole file

    const mov = await upload(t, alice, 'video', mp4(5000, 'qt  '), { filename: 'clip.mov' });
    expect(mov.json()).toMatchObject({ content_type: 'video/quicktime' });
    expect((await fetchFile(mov.json().url)).headers['content-type']).toBe('video/quicktime');
  });

  it('`file` before `kind` works too (the largest limit applies while streaming)', async () => {
    const res = await uploadParts(t, alice, [{ name: 'file', data: await jpeg() }, { name: 'kind', value: 'photo' }]);
    expect(res.statusCode).toBe(201);
  });

  it('an unchanged file answers If-None-Match with 304 (ETag is the sha256)', async () => {
    const body = (await upload(t, alice, 'photo', await jpeg())).json();
    const first = await fetchFile(body.url);
    expect(first.headers.etag).toBe(`"${body.sha256}"`);
    expect((await fetchFile(body.url, { 'if-none-match': `"${body.sha256}"` })).statusCode).toBe(304);
  });

  it('nothing is left in the temp directories after uploads, good or bad', async () => {
    await upload(t, alice, 'photo', Buffer.from('<html>not an image</html>'));
    await upload(t, alice, 'photo', await jpeg());
    expect(readdirSync(path.join(dataDir, 'tmp', 'uploads'))).toEqual([]);
    expect(readdirSync(path.join(dataDir, 'media', '.tmp'))).toEqual([]);
  });

  it('a JSON body is 415, a multipart body on another route is 415', async () => {
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: alice.auth, payload: { kind: 'photo' } });
    expect(json.statusCode).toBe(415);
    expect(json.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const elsewhere = await t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: { ...alice.auth, 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--' });
    expect(elsewhere.statusCode).toBe(415);
  });
});
