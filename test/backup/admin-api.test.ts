// GET/POST /api/v1/admin/backups: admins only; POST runs backup.create through the scheduler
// (202 {run_id}, 409 while it runs); the list is newest first and paginated.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/db/data-dir-lock.js';
import { signAccessToken, loadKeySet } from '../../src/plugins/auth-keys.js';
import { waitFor } from '../helpers/process.js';
import { createDeployment, tempDir, type Deployment } from './helpers.js';

describe('admin backups API', () => {
  const backupDir = tempDir();
  let d: Deployment;
  let admin: Record<string, string>;
  let user: Record<string, string>;
  beforeAll(async () => {
    d = await createDeployment({ backupDir });
    await d.startApp();
    const keys = loadKeySet(d.config);
    const token = async (role: 'user' | 'admin') =>
      `Bearer ${await signAccessToken(keys, { sub: randomUUID(), role, sid: randomUUID() }, 900, d.clock.now())}`;
    admin = { authorization: await token('admin') };
    user = { authorization: await token('user') };
  }, 120_000);
  afterAll(async () => {
    await d.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('is for admins only', async () => {
    expect((await d.app!.inject({ url: '/api/v1/admin/backups', headers: user })).statusCode).toBe(403);
    expect((await d.app!.inject({ method: 'POST', url: '/api/v1/admin/backups', headers: user })).statusCode).toBe(403);
  });

  it('POST → 202 {run_id}, 409 while it runs; the backup is listed newest first, paginated', async () => {
    const res = await d.app!.inject({ method: 'POST', url: '/api/v1/admin/backups', headers: admin });
    expect(res.statusCode).toBe(202);
    const { run_id } = res.json<{ run_id: string }>();
    expect((await d.app!.inject({ method: 'POST', url: '/api/v1/admin/backups', headers: admin })).statusCode).toBe(409);
    const status = async () =>
      (await d.db.withSystem((tx) => tx.one<{ status: string; error: string | null }>(sql`select status, error from job_runs where id = ${run_id}`)))!;
    await waitFor(async () => (await status()).status !== 'running', 120_000, 'the backup run');
    expect(await status()).toMatchObject({ status: 'success', error: null });

    d.clock.advance(60_000);
    const second = await d.app!.inject({ method: 'POST', url: '/api/v1/admin/backups', headers: admin });
    expect(second.statusCode).toBe(202);
    const secondId = second.json<{ run_id: string }>().run_id;
    await waitFor(
      async () => (await d.db.withSystem((tx) => tx.one<{ status: string }>(sql`select status from job_runs where id = ${secondId}`)))!.status !== 'running',
      120_000,
      'the second run',
    );

    const page1 = await d.app!.inject({ url: '/api/v1/admin/backups?limit=1', headers: admin });
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json<{ items: { id: string; status: string }[]; next_cursor: string | null }>();
    expect(body1.items).toHaveLength(1);
    expect(body1.items[0]!.status).toBe('completed');
    expect(body1.next_cursor).not.toBeNull();
    const page2 = await d.app!.inject({ url: `/api/v1/admin/backups?limit=1&cursor=${body1.next_cursor}`, headers: admin });
    const body2 = page2.json<{ items: { id: string }[]; next_cursor: string | null }>();
    expect(body2.items).toHaveLength(1);
    expect(body2.items[0]!.id < body1.items[0]!.id).toBe(true);
    expect(body2.next_cursor).toBeNull();
  }, 300_000);
  it('backup.prune while another backup operation holds BACKUP_DIR is skipped, not failed (the running create prunes)', async () => {
    const lock = lockDataDir(path.join(backupDir, '.lock.d'));
    try {
      const { runId, done } = await d.app!.scheduler.trigger('backup.prune');
      expect((await done).status).toBe('skipped');
      const row = await d.db.withSystem((tx) => tx.one<{ status: string; result: { reason: string } }>(sql`select status, result from job_runs where id = ${runId}`));
      expect(row).toMatchObject({ status: 'skipped', result: { reason: expect.stringMatching(/another backup operation is running/) } });
    } finally {
      lock.release();
    }
    d.clock.advance(1000);
    expect((await (await d.app!.scheduler.trigger('backup.prune')).done).status).toBe('success');
  }, 120_000);
});
