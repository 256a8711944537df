// Nothing half-written: a failed store leaves no row; a failed insert leaves no stored object. And
// readiness reports a store that cannot be written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { jpeg, mp4, tempDataDir, upload } from './helpers.js';

let t: TestContext;
let alice: TestUser;

beforeAll(async () => {
  t = await createTestApp({ env: { DATA_DIR: tempDataDir() } });
  alice = await t.users.create();
});
afterAll(() => t.close());

const rowCount = () => t.db.withSystem(async (tx) => (await tx.one<{ n: number }>(sql`select count(*)::int as n from media`))!.n);
async function objectCount() {
  let n = 0;
  for await (const _ of t.app.storage.list()) n++;
  return n;
}

describe('atomic uploads', () => {
  it('storing fails → 500 without internals, and no row', async () => {
    const [rows, objects] = [await rowCount(), await objectCount()];
    const original = t.app.storage.put.bind(t.app.storage);
    t.app.storage.put = () => Promise.reject(new Error('EIO: disk /srv/secret failed'));
    try {
      const res = await upload(t, alice, 'photo', await jpeg());
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain('/srv/secret');
    } finally {
      t.app.storage.put = original;
    }
    expect(await rowCount()).toBe(rows);
    expect(await objectCount()).toBe(objects);
  });

  it('the insert fails → 500, and the stored object is removed again', async () => {
    const [rows, objects] = [await rowCount(), await objectCount()];
    const db = t.db;
    const original = db.withUser.bind(db);
    let calls = 0;
    // 1st transaction: the quota pre-check; 2nd: the insert (after the object was stored).
    db.withUser = (userId, fn) => (++calls === 2 ? Promise.reject(new Error('connection terminated')) : original(userId, fn));
    try {
      const res = await upload(t, alice, 'video', mp4(50_000));
      expect(res.statusCode).toBe(500);
      expect(calls).toBe(2);
    } finally {
      db.withUser = original;
    }
    expect(await rowCount()).toBe(rows);
    expect(await objectCount()).toBe(objects);
  });

  it('a successful upload is one row and one object', async () => {
    const [rows, objects] = [await rowCount(), await objectCount()];
    expect((await upload(t, alice, 'photo', await jpeg())).statusCode).toBe(201);
    expect(await rowCount()).toBe(rows + 1);
    expect(await objectCount()).toBe(objects + 1);
  });
});

describe('readiness: storage', () => {
  it('passes when the store is writable; 503 naming storage when it is not, or when it hangs', async () => {
    expect((await t.app.inject({ url: '/health/ready' })).json().checks.storage.status).toBe('pass');
    const original = t.app.storage.checkWritable.bind(t.app.storage);
    try {
      t.app.storage.checkWritable = () => Promise.reject(new Error('EACCES: permission denied, open /srv/data/media/.tmp/x'));
      const failing = await t.app.inject({ url: '/health/ready' });
      expect(failing.statusCode).toBe(503);
      expect(failing.json()).toMatchObject({ failing: ['storage'], checks: { storage: { status: 'fail', error: 'unavailable' } } });
      expect(failing.body).not.toContain('/srv/data');

      t.app.storage.checkWritable = () => new Promise(() => undefined);
      const hung = await t.app.inject({ url: '/health/ready' });
      expect(hung.json().checks.storage.error).toBe('timed out');
    } finally {
      t.app.storage.checkWritable = original;
    }
  });
});
