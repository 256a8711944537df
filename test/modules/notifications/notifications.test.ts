import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { listNotifications, countUnread, markRead, deleteNotification } from '../../../src/modules/notifications/repository.js';
import { walk } from '../challenges/fixtures.js';

let t: TestContext;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  alice = await t.users.create();
  bob = await t.users.create();
});
afterAll(() => t.close());

// Each seeded notification is one second newer than the previous one: order is deterministic.
let seq = 0;
async function seed(userId: string, n: number, prefix = 'Note') {
  await t.db.withSystem(async (tx) => {
    for (let i = 0; i < n; i++) {
      await tx.execute(sql`insert into notifications (user_id, type, title, created_at)
        values (${userId}, 'test', ${`${prefix} ${i}`}, now() + ${seq++} * interval '1 second')`);
    }
  });
}

const api = (user: TestUser, method: 'GET' | 'POST' | 'DELETE', url: string) =>
  t.app.inject({ method, url: `/api/v1/notifications${url}`, headers: user.auth });

describe('notifications', () => {
  it('lists mine newest first, filters unread, counts, marks read one and all, deletes', async () => {
    const user = await t.users.create();
    await seed(user.id, 3);
    const list = (await api(user, 'GET', '')).json();
    expect(list.items.map((n: { title: string }) => n.title)).toEqual(['Note 2', 'Note 1', 'Note 0']);
    expect(list.next_cursor).toBeNull();
    expect(list.items[0]).toMatchObject({ type: 'test', body: null, data: {}, read_at: null });
    expect((await api(user, 'GET', '/unread-count')).json()).toEqual({ count: 3 });

    const read = await api(user, 'POST', `/${list.items[0].id}/read`);
    expect(read.statusCode).toBe(200);
    expect(read.json().read_at).toEqual(expect.any(String));
    // Marking again keeps the first read time.
    expect((await api(user, 'POST', `/${list.items[0].id}/read`)).json().read_at).toBe(read.json().read_at);
    expect((await api(user, 'GET', '/unread-count')).json()).toEqual({ count: 2 });
    expect((await api(user, 'GET', '?unread=true')).json().items.map((n: { title: string }) => n.title)).toEqual(['Note 1', 'Note 0']);

    expect((await api(user, 'POST', '/read-all')).json()).toEqual({ updated: 2 });
    expect((await api(user, 'GET', '/unread-count')).json()).toEqual({ count: 0 });

    const del = await api(user, 'DELETE', `/${list.items[1].id}`);
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await api(user, 'GET', '')).json().items).toHaveLength(2);
    expect((await api(user, 'DELETE', `/${list.items[1].id}`)).statusCode).toBe(404);
  });

  it("never touches another user's notifications (404), through the API", async () => {
    await seed(bob.id, 1, 'Bob');
    const bobs = (await api(bob, 'GET', '')).json().items[0];
    expect((await api(alice, 'POST', `/${bobs.id}/read`)).statusCode).toBe(404);
    expect((await api(alice, 'DELETE', `/${bobs.id}`)).statusCode).toBe(404);
    await api(alice, 'POST', '/read-all');
    expect((await api(alice, 'GET', '')).json().items.map((n: { id: string }) => n.id)).not.toContain(bobs.id);
    const after = (await api(bob, 'GET', '')).json().items[0];
    expect(after).toMatchObject({ id: bobs.id, read_at: null });
  });

  it('…and at the database level: as another user the repository sees and changes nothing', async () => {
    await seed(bob.id, 1, 'Bob again');
    const bobsId = (await api(bob, 'GET', '')).json().items[0].id;
    const result = await t.db.withUser(alice.id, async (tx) => ({
      // Even asking for Bob's rows by his id: RLS only ever shows the caller's own.
      list: await listNotifications(tx, bob.id, { unread: false, limit: 100 }),
      count: await countUnread(tx, bob.id),
      read: await markRead(tx, bob.id, bobsId),
      deleted: await deleteNotification(tx, bob.id, bobsId),
    }));
    expect(result).toEqual({ list: [], count: 0, read: undefined, deleted: 0 });
    expect((await api(bob, 'GET', '')).json().items[0]).toMatchObject({ id: bobsId, read_at: null });
  });

  it('expired notifications are not shown', async () => {
    const user = await t.users.create();
    await seed(user.id, 1, 'Old');
    await t.db.withSystem((tx) => tx.execute(sql`update notifications set expires_at = now() - interval '1 second' where user_id = ${user.id}`));
    expect((await api(user, 'GET', '')).json().items).toEqual([]);
    expect((await api(user, 'GET', '/unread-count')).json()).toEqual({ count: 0 });
  });

  it('paginates with a stable cursor while new notifications arrive', async () => {
    const user = await t.users.create();
    await seed(user.id, 25);
    const before = (await api(user, 'GET', '?limit=100')).json().items.map((n: { id: string }) => n.id);
    let added = 0;
    const { items, pages } = await walk(t, user, '/api/v1/notifications', 4, async () => {
      await seed(user.id, 1, `New ${added++}`);
    });
    expect(pages).toBe(7);
    const ids = items.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length); // no duplicates
    expect(ids).toEqual(before); // none missing, same order; the new ones are above the first page
  });

  it('limit over 100 → 422; a forged cursor → 422', async () => {
    const res = await api(alice, 'GET', '?limit=101');
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect((await api(alice, 'GET', '?cursor=bm90LWEtY3Vyc29y')).statusCode).toBe(422);
    const forged = Buffer.from(JSON.stringify([1, "x' or 1=1 --"])).toString('base64url');
    expect((await api(alice, 'GET', `?cursor=${forged}`)).statusCode).toBe(422);
  });
});
