// The same round trip with S3_* configured, against a real S3-compatible server (s3rver) started
// in-process on loopback: the object lands in the bucket, the API hands out a presigned bucket URL,
// the bytes fetched over HTTP are the stored ones, and a delete removes the object.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { TestClock } from '../../helpers/clock.js';
import { startS3, type TestS3 } from '../../storage/s3-server.js';
import { jpeg, mp4, sha256, tempDataDir, upload } from './helpers.js';

let s3: TestS3;
let t: TestContext;
let alice: TestUser;

beforeAll(async () => {
  s3 = await startS3();
  // The bucket checks presigned URLs against the real time, so the app's clock must be now.
  t = await createTestApp({ env: { DATA_DIR: tempDataDir(), ...s3.env, S3_KEY_PREFIX: 'media/' }, clock: new TestClock(new Date()) });
  alice = await t.users.create();
});
afterAll(async () => {
  await t.close();
  await s3.close();
});

const storageKey = (id: string) =>
  t.db.withSystem(async (tx) => (await tx.one<{ storage_key: string }>(sql`select storage_key from media where id = ${id}`))?.storage_key);

describe('S3-compatible storage', () => {
  it('is the configured store, and readiness checks it', async () => {
    expect(t.app.storage.kind).toBe('s3');
    const ready = await t.app.inject({ url: '/health/ready' });
    expect(ready.json().checks.storage.status).toBe('pass');
  });

  it('photo: upload → presigned URL → identical bytes with the stored type → delete removes the object', async () => {
    const res = await upload(t, alice, 'photo', await jpeg(100, 60));
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.url.startsWith(`${s3.endpoint}/${s3.bucket}/media/${alice.id}/${body.id}.jpg?`)).toBe(true);
    expect(body.url).toContain('X-Amz-Signature=');

    const file = await fetch(body.url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/jpeg');
    expect(file.headers.get('content-disposition')).toBe(`inline; filename="${body.id}.jpg"`);
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(sha256(bytes)).toBe(body.sha256);
    expect(bytes.length).toBe(body.size);

    const key = (await storageKey(body.id))!;
    expect(await t.app.storage.exists(key)).toBe(true);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${body.id}`, headers: alice.auth })).statusCode).toBe(204);
    expect(await t.app.storage.exists(key)).toBe(false);
    expect((await fetch(body.url)).status).toBe(404);
  });

  it('video: stored byte for byte in the bucket', async () => {
    const video = mp4(300_000);
    const body = (await upload(t, alice, 'video', video, { filename: 'v.mp4' })).json();
    const fetched = Buffer.from(await (await fetch(body.url)).arrayBuffer());
    expect(fetched.equals(video)).toBe(true);
    expect(body).toMatchObject({ content_type: 'video/mp4', sha256: sha256(video) });
  });

  it('no local signed-file route with S3 (bytes come from the bucket)', async () => {
    expect(t.app.hasRoute({ method: 'GET', url: '/media/files/:id' })).toBe(false);
  });
});
