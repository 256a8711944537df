// §5.4 acceptance: back up a deployment with users, a challenge and check-ins with photos, wipe it,
// restore, and the API serves the same records and byte-identical media; logins still work.
// Runs on embedded PGlite (npm test) and on PostgreSQL (test:services).
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackup, listBackups, restoreBackup, verifyBackup } from '../../src/backup/index.js';
import { apiView, createDeployment, seedThroughApi, tempDir, type Deployment } from './helpers.js';

describe('backup → wipe → restore through the API', () => {
  const backupDir = tempDir();
  const cleanup: Deployment[] = [];
  afterAll(async () => {
    for (const d of cleanup) await d.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('restores exactly what was backed up', async () => {
    const source = await createDeployment({ backupDir });
    cleanup.push(source);
    const app = await source.startApp();
    const seeded = await seedThroughApi(source, app);
    const before = await apiView(app, source.storage, seeded);
    expect(Object.keys(before.media)).toHaveLength(6);

    const manifest = await createBackup(source.deps);
    expect(manifest.tables.users!.rows).toBe(2);
    expect(manifest.tables.check_ins!.rows).toBe(6);
    expect(manifest.media).toHaveLength(6);
    const listed = await listBackups(source.deps);
    expect(listed[0]).toMatchObject({ id: manifest.id, status: 'completed', local: true });

    const drill = await verifyBackup(source.deps, 'latest');
    expect(drill.problems).toEqual([]);
    expect(drill.ok).toBe(true);

    // A second backup adds no media blobs (content-addressed).
    source.clock.advance(60_000);
    const second = await createBackup(source.deps);
    expect(second.sizes.media_new_bytes).toBe(0);
    await source.stop();

    // The wipe: a new, empty deployment (new DATA_DIR or a new database, empty media directory).
    const target = await createDeployment({ backupDir, empty: true });
    cleanup.push(target);
    await target.stop();
    const progress: string[] = [];
    await restoreBackup({ settings: target.deps.settings, storage: target.storage, clock: target.clock, progress: (m) => progress.push(m) }, manifest.id);
    expect(progress.some((p) => p.startsWith('restore: media'))).toBe(true);
    await target.reopen();
    const app2 = await target.startApp();
    const after = await apiView(app2, target.storage, seeded);
    expect(after.media).toEqual(before.media);
    for (const p of seeded.photos) expect(after.media[p.key]).toBe(require_sha(p.bytes));
    expect(after.view).toEqual(before.view);

    // The restored table is reconciled: both backups are listed as completed.
    const restoredList = await listBackups(target.deps);
    expect(restoredList.map((b) => [b.id, b.status])).toEqual([
      [second.id, 'completed'],
      [manifest.id, 'completed'],
    ]);

    // A non-empty target is refused without --force, replaced with it.
    await target.stop();
    await expect(restoreBackup({ settings: target.deps.settings, storage: target.storage, clock: target.clock }, 'latest')).rejects.toThrow(/not empty.*--force/);
    await restoreBackup({ settings: target.deps.settings, storage: target.storage, clock: target.clock }, 'latest', { force: true });
    await target.reopen();
    const app3 = await target.startApp();
    expect((await apiView(app3, target.storage, seeded)).view).toEqual(before.view);
  }, 240_000);
});

function require_sha(b: Buffer) {
  return createHash('sha256').update(b).digest('hex');
}
