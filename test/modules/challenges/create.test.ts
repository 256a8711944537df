import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { challengeBody, createChallenge, HABITS, TODAY } from './fixtures.js';

let t: TestContext;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  alice = await t.users.create();
  bob = await t.users.create();
});
afterAll(() => t.close());

const create = (user: TestUser, overrides: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/api/v1/challenges', headers: user.auth, payload: challengeBody(overrides) });

describe('POST /challenges', () => {
  it('creates the challenge with the creator as its creator member, an invite code and its habits', async () => {
    const res = await create(alice, { description: 'Up early', is_public: true });
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({
      name: 'Morning routine',
      description: 'Up early',
      type: 'group',
      status: 'active', // starts today
      start_date: TODAY,
      end_date: '2026-07-15',
      max_members: 10, // the group default
      member_count: 1,
      checkin_type: 'any',
      require_evidence: false,
      is_public: true,
      created_by: alice.id,
      organization_id: null,
      my_role: 'creator',
      my_status: 'active',
    });
    expect(c.invite_code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    expect(c.habits.map((h: { id: string }) => h.id)).toEqual([HABITS.exercise, HABITS.water]);

    const members = await t.app.inject({ method: 'GET', url: `/api/v1/challenges/${c.id}/members`, headers: alice.auth });
    expect(members.json().items).toMatchObject([{ user_id: alice.id, role: 'creator', status: 'active' }]);
  });

  it('gives every challenge its own invite code', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 5; i++) codes.add((await createChallenge(t, alice)).invite_code);
    expect(codes.size).toBe(5);
  });

  it('an individual challenge has exactly one place', async () => {
    const c = await createChallenge(t, alice, { type: 'individual' });
    expect(c.max_members).toBe(1);
    const res = await create(alice, { type: 'individual', max_members: 5 });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([{ path: 'body.max_members', message: 'must be 1 for an individual challenge' }]);
  });

  it('starts pending when the start date is in the future', async () => {
    const c = await createChallenge(t, alice, { start_date: '2026-06-20', end_date: '2026-06-30' });
    expect(c.status).toBe('pending');
  });

  it.each([
    ['name too short', { name: 'ab' }, 'body.name'],
    ['blank name', { name: '     ' }, 'body.name'],
    ['name too long', { name: 'x'.repeat(101) }, 'body.name'],
    ['description too long', { description: 'x'.repeat(1001) }, 'body.description'],
    ['end before start', { start_date: '2026-06-20', end_date: '2026-06-19' }, 'body.end_date'],
    ['end equal to start', { start_date: '2026-06-20', end_date: '2026-06-20' }, 'body.end_date'],
    ['longer than 365 days', { start_date: '2026-06-20', end_date: '2027-06-21' }, 'body.end_date'],
    ['start in the past', { start_date: '2026-06-14' }, 'body.start_date'],
    ['impossible date', { end_date: '2026-02-30' }, 'body.end_date'],
    ['no habits', { habit_ids: [] }, 'body.habit_ids'],
    ['more than 10 habits', { habit_ids: Array.from({ length: 11 }, (_, i) => `00000000-0000-4000-8000-0000000000${String(i + 1).padStart(2, '0')}`) }, 'body.habit_ids'],
    ['the same habit twice', { habit_ids: [HABITS.water, HABITS.water] }, 'body.habit_ids'],
    ['an unknown habit', { habit_ids: ['7d4c8f1e-7a51-4d2b-9b1a-2f0e6c1d9a00'] }, 'body.habit_ids'],
    ['max_members 0', { max_members: 0 }, 'body.max_members'],
    ['max_members 101', { max_members: 101 }, 'body.max_members'],
    ['program type', { type: 'program' }, 'body.type'],
    ['an organization I do not belong to', { organization_id: '7d4c8f1e-7a51-4d2b-9b1a-2f0e6c1d9a00' }, 'body.organization_id'],
  ])('422 for %s', async (_label, overrides, path) => {
    const res = await create(alice, overrides);
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(res.json().errors[0].path).toBe(path);
  });

  it('accepts exactly 365 days, and a start date that is today only in the creator’s time zone', async () => {
    expect((await create(alice, { start_date: '2026-06-20', end_date: '2027-06-20' })).statusCode).toBe(201);
    // 12:00 UTC on the 15th is already the 16th in Kiritimati (UTC+14); the 15th is past there.
    const kiribati = await t.users.create({ timezone: 'Pacific/Kiritimati' });
    expect((await create(kiribati, { start_date: TODAY })).statusCode).toBe(422);
    expect((await create(kiribati, { start_date: '2026-06-16' })).statusCode).toBe(201);
  });

  it('rejects unknown fields (mass assignment) and wrong enum values with 400', async () => {
    for (const extra of [{ member_count: 0 }, { created_by: bob.id }, { status: 'completed' }, { invite_code: 'ABCDEFGH' }]) {
      const res = await create(alice, extra);
      expect(res.statusCode).toBe(400);
    }
    expect((await create(alice, { checkin_type: 'selfie' })).statusCode).toBe(400);
  });

  it("cannot use another user's private custom habit", async () => {
    const habit = await t.app.inject({ method: 'POST', url: '/api/v1/habits', headers: bob.auth, payload: { name: 'Bob only' } });
    const res = await create(alice, { habit_ids: [habit.json().id] });
    expect(res.statusCode).toBe(422);
    expect((await create(bob, { habit_ids: [habit.json().id] })).statusCode).toBe(201);
  });
});
