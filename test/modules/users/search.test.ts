// GET /users/search: prefix of the display name, case-insensitive, wildcards literal, blocked users
// left out, public fields only, keyset pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Tx } from '../../../src/db/database.js';
import { searchProfiles } from '../../../src/modules/users/repository.js';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { PUBLIC_FIELDS, befriend } from './helpers.js';

let t: TestContext;
let searcher: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  searcher = await t.users.create({ displayName: 'Searcher' });
});
afterAll(() => t.close());

const search = (query: Record<string, string | number>, user = searcher) =>
  t.app.inject({ method: 'GET', url: '/api/v1/users/search', query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])), headers: user.auth });
const names = (res: { json(): { items: { display_name: string }[] } }) => res.json().items.map((i) => i.display_name);

describe('GET /users/search', () => {
  it('matches the start of display names case-insensitively and returns public fields only', async () => {
    const zed = await t.users.create({ displayName: 'Zelda Zimmer' });
    await t.users.create({ displayName: 'zeno' });
    await t.users.create({ displayName: 'Amazed' });
    const res = await search({ q: 'ZE' });
    expect(res.statusCode).toBe(200);
    expect(names(res).sort()).toEqual(['Zelda Zimmer', 'zeno']);
    const item = res.json().items.find((i: { id: string }) => i.id === zed.id);
    expect(Object.keys(item).sort()).toEqual(PUBLIC_FIELDS);
    expect(res.body).not.toContain(zed.email);
    expect(res.body).not.toMatch(/"role"|"email"|"timezone"/);
  });

  it('treats % and _ as plain characters', async () => {
    await t.users.create({ displayName: '100% Fit' });
    await t.users.create({ displayName: '1000 Fit' });
    await t.users.create({ displayName: 'snake_case' });
    await t.users.create({ displayName: 'snakeXcase' });
    await t.users.create({ displayName: 'back\\slash' });
    await t.users.create({ displayName: 'backXslash' });
    expect(names(await search({ q: '100%' }))).toEqual(['100% Fit']);
    expect(names(await search({ q: 'snake_' }))).toEqual(['snake_case']);
    expect(names(await search({ q: 'back\\' }))).toEqual(['back\\slash']);
    expect(names(await search({ q: '%%' }))).toEqual([]);
    expect(names(await search({ q: '__' }))).toEqual([]);
  });

  it('leaves out blocked users (either direction) and the caller', async () => {
    const blockedByMe = await t.users.create({ displayName: 'Blocky One' });
    const blockedMe = await t.users.create({ displayName: 'Blocky Two' });
    await t.users.create({ displayName: 'Blocky Three' });
    await befriend(t, searcher.id, blockedByMe.id, 'blocked');
    await befriend(t, blockedMe.id, searcher.id, 'blocked');
    expect(names(await search({ q: 'blocky' }))).toEqual(['Blocky Three']);
    expect(names(await search({ q: 'Search' }))).toEqual([]);
    // The blocked user does not find me either.
    expect(names(await search({ q: 'Search' }, blockedMe))).toEqual([]);
  });

  it('pages with limit and cursor, without gaps or repeats', async () => {
    for (let i = 0; i < 7; i++) await t.users.create({ displayName: `Pager ${i % 3}` }); // duplicates on purpose
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await search({ q: 'pager', limit: 3, ...(cursor ? { cursor } : {}) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items.map((i: { id: string }) => i.id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
    const all = await search({ q: 'pager', limit: 100 });
    expect(all.json().items.map((i: { id: string }) => i.id)).toEqual(seen);
    expect(all.json().next_cursor).toBeNull();
  });

  it.each([
    ['one character', { q: 'a' }, 422],
    ['one character after trimming', { q: ' a ' }, 422],
    ['51 characters', { q: 'x'.repeat(51) }, 422],
    ['no q at all', {}, 400],
    ['limit 0', { q: 'ab', limit: 0 }, 422],
    ['limit 101', { q: 'ab', limit: 101 }, 422],
    ['a forged cursor', { q: 'ab', cursor: 'bm90LWEtY3Vyc29y' }, 422],
    ['a cursor with a non-uuid id', { q: 'ab', cursor: Buffer.from(JSON.stringify(['ab', "x' or 1=1"])).toString('base64url') }, 422],
    ['an unknown parameter', { q: 'ab', role: 'admin' }, 400],
  ])('refuses %s', async (_name, query, status) => {
    const res = await search(query);
    expect(res.statusCode).toBe(status);
  });

  it('with SQL-looking input, finds nothing and fails nothing', async () => {
    for (const q of ["' or 1=1 --", "'); drop table users; --", '\\\\', '\\%']) {
      const res = await search({ q });
      expect(res.statusCode).toBe(200);
      expect(res.json().items).toEqual([]);
    }
  });
  it('is an index range scan as the API role, under row-level security (no sequential scan of all profiles)', async () => {
    // With sequential scans priced out, the planner takes the index whenever it is usable at all:
    // under RLS only leakproof conditions reach an index scan (migrations/0009).
    const plan = (after?: { name: string; id: string }) =>
      t.db.withUser(searcher.id, async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`);
        const explain = { query: (q: ReturnType<typeof sql>) => tx.query(sql`explain (format json) ${q}`) } as unknown as Tx;
        return JSON.stringify(await searchProfiles(explain, { prefix: 'Ze', limit: 21, after }));
      });
    for (const text of [await plan(), await plan({ name: 'zelda', id: searcher.id })]) {
      expect(text).toContain('user_profiles_display_name_lower_idx');
      expect(text).not.toMatch(/Seq Scan/);
    }
  });
});
