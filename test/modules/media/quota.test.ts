// Per-user storage quota (MEDIA_QUOTA_BYTES): past it 413 QUOTA_EXCEEDED; checked under a per-user
// lock in the insert transaction, so parallel uploads cannot squeeze past it together; a refused
// upload leaves no object behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { jpeg, mp4, tempDataDir, upload } from './helpers.js';

const QUOTA = 300_000;
let t: TestContext;

beforeAll(async () => {
  t = await createTestApp({ env: { DATA_DIR: tempDataDir(), MEDIA_QUOTA_BYTES: String(QUOTA) } });
});
afterAll(() => t.close());

const used = (user: TestUser) =>
  t.db.withSystem(async (tx) => (await tx.one<{ n: number }>(sql`select coalesce(sum(size_bytes), 0)::int as n from media where owner_id = ${user.id}`))!.n);
const objects = async (user: TestUser) => {
  let n = 0;
  for await (const o of t.app.storage.list(`${user.id}/`)) n += o.size > 0 ? 1 : 0;
  return n;
};
const rows = (user: TestUser) => t.db.withSystem(async (tx) => (await tx.one<{ n: number }>(sql`select count(*)::int as n from media where owner_id = ${user.id}`))!.n);

describe('storage quota', () => {
  it('uploads past the quota are 413 QUOTA_EXCEEDED; others users are not affected', async () => {
    const alice = await t.users.create();
    expect((await upload(t, alice, 'video', mp4(200_000))).statusCode).toBe(201);
    const over = await upload(t, alice, 'video', mp4(150_000));
    expect(over.statusCode).toBe(413);
    expect(over.json().code).toBe('QUOTA_EXCEEDED');
    expect((await upload(t, alice, 'video', mp4(90_000))).statusCode).toBe(201); // 290 000: still fits
    expect(await used(alice)).toBe(290_000);
    // An image is counted by its stored (re-encoded) size, and refused once that does not fit.
    const photo = await upload(t, alice, 'photo', await jpeg(400, 400));
    expect(photo.statusCode).toBe(413);
    expect(photo.json().code).toBe('QUOTA_EXCEEDED');
    expect(await rows(alice)).toBe(2);
    expect(await objects(alice)).toBe(2);

    const bob = await t.users.create();
    expect((await upload(t, bob, 'video', mp4(250_000))).statusCode).toBe(201);
  });

  it('a full quota is refused before the body is read, and deleting frees it', async () => {
    const carol = await t.users.create();
    const first = await upload(t, carol, 'video', mp4(QUOTA));
    expect(first.statusCode).toBe(201);
    const next = await upload(t, carol, 'photo', await jpeg());
    expect(next.json()).toMatchObject({ code: 'QUOTA_EXCEEDED', status: 413 });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${first.json().id}`, headers: carol.auth })).statusCode).toBe(204);
    expect((await upload(t, carol, 'photo', await jpeg())).statusCode).toBe(201);
  });

  it('two parallel uploads that together exceed it: exactly one succeeds, and the other leaves no object', async () => {
    for (let round = 0; round < 3; round++) {
      const dave = await t.users.create();
      const results = await Promise.all([upload(t, dave, 'video', mp4(200_000)), upload(t, dave, 'video', mp4(200_000))]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([201, 413]);
      expect(results.find((r) => r.statusCode === 413)!.json().code).toBe('QUOTA_EXCEEDED');
      expect(await rows(dave)).toBe(1);
      expect(await objects(dave)).toBe(1);
    }
  });

  it('five parallel uploads of a third of the quota: exactly three succeed', async () => {
    const erin = await t.users.create();
    const results = await Promise.all(Array.from({ length: 5 }, () => upload(t, erin, 'video', mp4(QUOTA / 3))));
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(3);
    expect(results.filter((r) => r.statusCode === 413)).toHaveLength(2);
    expect(await used(erin)).toBe(QUOTA);
    expect(await objects(erin)).toBe(3);
  });
});
