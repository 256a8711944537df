import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';

let t: TestContext;
let admin: TestUser;
let user: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  admin = await t.users.create({ role: 'admin' });
  user = await t.users.create();
});
afterAll(() => t.close());

describe('admin job API', () => {
  it('is for platform admins only', async () => {
    for (const [method, url] of [['GET', '/api/v1/admin/jobs'], ['GET', '/api/v1/admin/jobs/hitch.reset/runs'], ['POST', '/api/v1/admin/jobs/hitch.reset/run']] as const) {
      const res = await t.app.inject({ method, url, headers: user.auth });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().code).toBe('FORBIDDEN');
    }
  });

  it('lists every job with schedule and next run', async () => {
    const res = await t.app.inject({ url: '/api/v1/admin/jobs', headers: admin.auth });
    expect(res.statusCode).toBe(200);
    const names = res.json().items.map((j: { name: string }) => j.name);
    expect(names).toEqual(expect.arrayContaining(['challenges.activate', 'challenges.auto_complete', 'reminders.streak', 'stats.refresh', 'hitch.reset', 'notifications.cleanup']));
    const auto = res.json().items.find((j: { name: string }) => j.name === 'challenges.auto_complete');
    expect(auto).toMatchObject({ schedule: '5 0 * * *', last_run: null });
    expect(auto.next_run).toBe('2026-06-16T00:05:00.000Z'); // the test clock starts 2026-06-15T12:00Z
  });

  it('trigger → 202 with the run id, recorded; unknown job → 404; while running → 409', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/notifications.cleanup/run', headers: admin.auth });
    expect(res.statusCode).toBe(202);
    const { run_id } = res.json();
    await new Promise((r) => setTimeout(r, 300));
    const runs = await t.app.inject({ url: '/api/v1/admin/jobs/notifications.cleanup/runs', headers: admin.auth });
    expect(runs.json().items[0]).toMatchObject({ id: run_id, trigger: 'manual', status: 'success' });
    const list = await t.app.inject({ url: '/api/v1/admin/jobs', headers: admin.auth });
    expect(list.json().items.find((j: { name: string }) => j.name === 'notifications.cleanup').last_run.id).toBe(run_id);

    expect((await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/nope.nothing/run', headers: admin.auth })).statusCode).toBe(404);
    expect((await t.app.inject({ url: '/api/v1/admin/jobs/nope.nothing/runs', headers: admin.auth })).statusCode).toBe(404);

    // Another instance is running it right now.
    await t.db.withSystem((tx) => tx.execute(sql`insert into job_runs (job, scheduled_for, status, started_at, instance)
      values ('hitch.reset', ${t.clock.now()}, 'running', ${t.clock.now()}, 'other-instance')`));
    const busy = await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/hitch.reset/run', headers: admin.auth });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().code).toBe('CONFLICT');
  });

  it('concurrent triggers never overlap: the database holds at most one running row per job', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/stats.refresh/run', headers: admin.auth })),
    );
    expect(results.every((r) => r.statusCode === 202 || r.statusCode === 409)).toBe(true);
    await t.db.withSystem((tx) => tx.execute(sql`insert into job_runs (job, scheduled_for, status) values ('x.concurrent', now(), 'running')`));
    await expect(
      t.db.withSystem((tx) => tx.execute(sql`insert into job_runs (job, scheduled_for, status) values ('x.concurrent', now() + interval '1 second', 'running')`)),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('run history is paginated with a cursor', async () => {
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000);
      await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/jobs.prune_history/run', headers: admin.auth });
      await new Promise((r) => setTimeout(r, 150));
    }
    const first = await t.app.inject({ url: '/api/v1/admin/jobs/jobs.prune_history/runs?limit=2', headers: admin.auth });
    expect(first.json().items).toHaveLength(2);
    const second = await t.app.inject({ url: `/api/v1/admin/jobs/jobs.prune_history/runs?limit=2&cursor=${first.json().next_cursor}`, headers: admin.auth });
    expect(second.json().items).toHaveLength(1);
    expect(second.json().next_cursor).toBeNull();
    expect((await t.app.inject({ url: '/api/v1/admin/jobs/jobs.prune_history/runs?limit=101', headers: admin.auth })).statusCode).toBe(422);
  });

  it('a forged cursor is a 4xx problem, never a failed cast in SQL', async () => {
    const forged = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const key of [["1' or '1'='1", '00000000-0000-4000-8000-000000000000'], ['2026-01-01T00:00:00.000Z', 'not-a-uuid'], ['yesterday', 'x'], [1, 2]]) {
      const res = await t.app.inject({ url: `/api/v1/admin/jobs/jobs.prune_history/runs?cursor=${forged(key)}`, headers: admin.auth });
      expect(res.statusCode, JSON.stringify(key)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, JSON.stringify(key)).toBeLessThan(500);
      expect(res.json()).toMatchObject({ code: expect.any(String), errors: [expect.objectContaining({ path: 'query.cursor' })] });
    }
  });
});
