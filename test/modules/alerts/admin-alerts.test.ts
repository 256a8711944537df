// GET /api/v1/admin/alerts: platform admins only, newest first, paginated, filtered by status/rule.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await t.users.create({ role: 'admin' });
  await t.db.withSystem(async (tx) => {
    for (let i = 0; i < 25; i++) {
      const fired = new Date(Date.UTC(2026, 5, 1, 0, i));
      await tx.execute(sql`insert into alerts (rule, status, severity, value, threshold, message, fired_at, last_notified_at, resolved_at, details)
        values (${i % 2 === 0 ? 'backup_failed' : 'job_failed:stats.refresh'}, 'resolved', 'critical', 1, 0, ${`episode ${i}`}, ${fired}, ${fired}, ${fired},
                ${JSON.stringify({ unit: 'failures', breaching: { 'host-1': fired.toISOString() } })}::jsonb)`);
    }
    await tx.execute(sql`insert into alerts (rule, severity, message, fired_at) values ('disk_space', 'critical', 'now', ${new Date(Date.UTC(2026, 5, 2))})`);
  });
});
afterAll(() => t.close());

it('is for platform admins only', async () => {
  const user = await t.users.create();
  expect((await t.app.inject({ url: '/api/v1/admin/alerts', headers: user.auth })).statusCode).toBe(403);
  expect((await t.app.inject({ url: '/api/v1/admin/alerts' })).statusCode).toBe(401);
});

it('pages newest first through every alert without repeats', async () => {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res: { statusCode: number; json<T>(): T } = await t.app.inject({ url: `/api/v1/admin/alerts?limit=10${cursor ? `&cursor=${cursor}` : ''}`, headers: admin.auth });
    expect(res.statusCode).toBe(200);
    const page: { items: { message: string; details: object }[]; next_cursor: string | null } = res.json<{ items: { message: string; details: object }[]; next_cursor: string | null }>();
    seen.push(...page.items.map((i) => i.message));
    for (const item of page.items) expect(item.details).not.toHaveProperty('breaching');
    cursor = page.next_cursor;
  } while (cursor);
  expect(seen).toHaveLength(26);
  expect(new Set(seen).size).toBe(26);
  expect(seen[0]).toBe('now');
  expect(seen[1]).toBe('episode 24');
});

it('filters by status and by rule, and rejects unknown parameters', async () => {
  const firing = (await t.app.inject({ url: '/api/v1/admin/alerts?status=firing', headers: admin.auth })).json();
  expect(firing.items.map((a: { rule: string }) => a.rule)).toEqual(['disk_space']);
  expect(firing.items[0].runbook).toBe('docs/INCIDENT_RESPONSE.md#alert-disk-space');
  const jobs = (await t.app.inject({ url: '/api/v1/admin/alerts?rule=job_failed:stats.refresh&limit=100', headers: admin.auth })).json();
  expect(jobs.items).toHaveLength(12);
  expect(jobs.items[0].runbook).toBe('docs/INCIDENT_RESPONSE.md#alert-job-failed');
  expect((await t.app.inject({ url: '/api/v1/admin/alerts?status=open', headers: admin.auth })).statusCode).toBe(400);
  expect((await t.app.inject({ url: '/api/v1/admin/alerts?severity=critical', headers: admin.auth })).statusCode).toBe(400);
});

it('a forged cursor is a 4xx, never a 500', async () => {
  for (const key of [["x' or 1=1 --", 'not-a-uuid'], ['2026-06-01T00:00:00.000Z', "'; drop table alerts; --"], [1, 2]]) {
    const cursor = Buffer.from(JSON.stringify(key)).toString('base64url');
    const res = await t.app.inject({ url: `/api/v1/admin/alerts?cursor=${cursor}`, headers: admin.auth });
    expect(res.statusCode, JSON.stringify(key)).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
  }
});
