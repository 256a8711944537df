import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { listHabits } from '../../../src/modules/habits/repository.js';
import { createChallenge, join, walk } from '../challenges/fixtures.js';

let t: TestContext;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  alice = await t.users.create();
  bob = await t.users.create();
});
afterAll(() => t.close());

const createHabit = (user: TestUser, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/api/v1/habits', headers: user.auth, payload });
const names = async (user: TestUser) => (await walk(t, user, '/api/v1/habits', 100)).items.map((h) => (h as { name: string }).name);

describe('habits', () => {
  it('lists the ten system habits', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/habits', headers: alice.auth });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items).toHaveLength(10);
    expect(body.items.every((h: { is_system: boolean; created_by: null }) => h.is_system && h.created_by === null)).toBe(true);
    expect(body.next_cursor).toBeNull();
  });

  it('creates a custom habit (201), trimmed; blank optional fields become null', async () => {
    const res = await createHabit(alice, { name: '  Stretching ', icon: '🤸', description: '', category: 'fitness' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Stretching', icon: '🤸', description: null, category: 'fitness', is_system: false, created_by: alice.id });
  });

  it('validates: name 1–60 and not blank, known fields only', async () => {
    expect((await createHabit(alice, { name: '' })).statusCode).toBe(422);
    expect((await createHabit(alice, { name: '   ' })).statusCode).toBe(422);
    expect((await createHabit(alice, { name: 'x'.repeat(61) })).statusCode).toBe(422);
    expect((await createHabit(alice, { name: 'ok', is_system: true })).statusCode).toBe(400);
    expect((await createHabit(alice, { name: 'ok', created_by: bob.id })).statusCode).toBe(400);
  });

  it("a custom habit is its creator's, and visible to members of challenges using it", async () => {
    const habit = (await createHabit(bob, { name: 'Cold shower' })).json();
    expect(await names(alice)).not.toContain('Cold shower');
    expect(await t.db.withUser(alice.id, (tx) => listHabits(tx, alice.id, 100))).not.toContainEqual(expect.objectContaining({ id: habit.id }));
    const c = await createChallenge(t, bob, { habit_ids: [habit.id] });
    await join(t, alice, c.invite_code);
    expect(await names(alice)).toContain('Cold shower');
    // After leaving, it is no longer one of "my" habits.
    await t.app.inject({ method: 'POST', url: `/api/v1/challenges/${c.id}/leave`, headers: alice.auth });
    expect(await names(alice)).not.toContain('Cold shower');
  });

  it('paginates (system habits first) and rejects limit > 100', async () => {
    const user = await t.users.create();
    for (let i = 0; i < 5; i++) await createHabit(user, { name: `Mine ${i}` });
    const { items, pages } = await walk(t, user, '/api/v1/habits', 4);
    expect(pages).toBe(4);
    expect(items.map((h) => (h as { name: string }).name).slice(10)).toEqual(['Mine 0', 'Mine 1', 'Mine 2', 'Mine 3', 'Mine 4']);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/habits?limit=101', headers: user.auth })).statusCode).toBe(422);
  });
});
