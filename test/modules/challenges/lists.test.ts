// Lists: GET /challenges (mine, ?status=), members and check-in feeds — keyset pages that stay
// stable while rows are inserted, and the 100-item limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { checkIn, createChallenge, HABITS, join, walk } from './fixtures.js';

let t: TestContext;
let alice: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  alice = await t.users.create();
});
afterAll(() => t.close());

describe('GET /challenges', () => {
  it('lists my challenges newest first, with a stable cursor while new ones are created', async () => {
    const user = await t.users.create();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await createChallenge(t, user, { name: `Challenge ${i}` })).id);
    const { items, pages } = await walk(t, user, '/api/v1/challenges', 3, async () => {
      await createChallenge(t, user, { name: 'Arrived meanwhile' });
    });
    expect(pages).toBe(3);
    expect(items.map((c) => c.id)).toEqual([...created].reverse());
  });

  it('filters by effective status; a pending challenge reads active from its start date without any job', async () => {
    const user = await t.users.create();
    const now = await createChallenge(t, user, { name: 'Now' });
    const later = await createChallenge(t, user, { name: 'Later', start_date: '2026-06-16', end_date: '2026-06-30' });
    const done = await createChallenge(t, user, { name: 'Done' });
    await t.db.withSystem((tx) => tx.execute(sql`update challenges set status = 'completed' where id = ${done.id}`));
    const ids = async (status: string) =>
      (await t.app.inject({ method: 'GET', url: `/api/v1/challenges?status=${status}`, headers: user.auth })).json().items.map((c: { id: string }) => c.id);
    expect(await ids('active')).toEqual([now.id]);
    expect(await ids('pending')).toEqual([later.id]);
    expect(await ids('completed')).toEqual([done.id]);

    t.clock.set('2026-06-16T00:00:01Z');
    try {
      const fresh = { authorization: `Bearer ${await t.users.token(user.id)}` };
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/challenges?status=active', headers: fresh });
      expect(res.json().items.map((c: { id: string }) => c.id)).toEqual([later.id, now.id]);
      const one = await t.app.inject({ method: 'GET', url: `/api/v1/challenges/${later.id}`, headers: fresh });
      expect(one.json().status).toBe('active');
      // The stored status is untouched: the activation job owns it.
      const stored = await t.db.withSystem((tx) => tx.one<{ status: string }>(sql`select status from challenges where id = ${later.id}`));
      expect(stored!.status).toBe('pending');
    } finally {
      t.clock.set('2026-06-15T12:00:00Z');
    }
  });

  it.each(['/api/v1/challenges', '/api/v1/checkins', '/api/v1/notifications', '/api/v1/habits'])('%s?limit=101 → 422', async (url) => {
    const res = await t.app.inject({ method: 'GET', url: `${url}?limit=101`, headers: alice.auth });
    expect(res.statusCode).toBe(422);
  });
});

describe('members and check-in feeds', () => {
  it('walks members and the challenge feed page by page without duplicates or gaps', async () => {
    const c = await createChallenge(t, alice, { max_members: 20 });
    const people = [alice];
    for (let i = 0; i < 8; i++) {
      const u = await t.users.create();
      await join(t, u, c.invite_code);
      people.push(u);
    }
    const members = await walk(t, alice, `/api/v1/challenges/${c.id}/members`, 4);
    expect(members.items.map((m) => m.user_id)).toEqual(people.map((p) => p.id));

    for (const p of people) await checkIn(t, p, { challenge_id: c.id, habit_id: HABITS.water });
    const expected = (await t.app.inject({ method: 'GET', url: `/api/v1/challenges/${c.id}/checkins?limit=100`, headers: alice.auth })).json().items;
    expect(expected).toHaveLength(9);
    let next = 0;
    const feed = await walk(t, alice, `/api/v1/challenges/${c.id}/checkins`, 2, async () => {
      // New check-ins (another habit) land above the pages already read.
      if (next < people.length) await checkIn(t, people[next++]!, { challenge_id: c.id, habit_id: HABITS.exercise });
    });
    expect(feed.items.map((x) => x.id)).toEqual(expected.map((x: { id: string }) => x.id));

    const filtered = await t.app.inject({ method: 'GET', url: `/api/v1/challenges/${c.id}/checkins?user_id=${people[1]!.id}&habit_id=${HABITS.water}&from=2026-06-15&to=2026-06-15`, headers: alice.auth });
    expect(filtered.json().items).toHaveLength(1);
    const bad = await t.app.inject({ method: 'GET', url: `/api/v1/challenges/${c.id}/checkins?from=2026-06-16&to=2026-06-15`, headers: alice.auth });
    expect(bad.statusCode).toBe(422);
  });

  it('GET /checkins lists mine, filterable by challenge and dates', async () => {
    const user = await t.users.create();
    const a = await createChallenge(t, user);
    const b = await createChallenge(t, user);
    await checkIn(t, user, { challenge_id: a.id, habit_id: HABITS.water });
    await checkIn(t, user, { challenge_id: a.id, habit_id: HABITS.exercise });
    await checkIn(t, user, { challenge_id: b.id, habit_id: HABITS.water });
    const get = async (q: string) => (await t.app.inject({ method: 'GET', url: `/api/v1/checkins${q}`, headers: user.auth })).json();
    expect((await get('')).items).toHaveLength(3);
    expect((await get(`?challenge_id=${a.id}`)).items).toHaveLength(2);
    expect((await get('?from=2026-06-16')).items).toHaveLength(0);
    expect((await get('?to=2026-06-15&limit=2')).next_cursor).toEqual(expect.any(String));
  });
});
