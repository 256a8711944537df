// Off-site copies: a backup is uploaded to a real S3-compatible server (s3rver on loopback); with
// BACKUP_DIR emptied, verify and restore fetch it back from the bucket.
import { rmSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackup, listBackups, restoreBackup, verifyBackup } from '../../src/backup/index.js';
import { startS3, type TestS3 } from '../storage/s3-server.js';
import { apiView, createDeployment, seedThroughApi, tempDir, type Deployment } from './helpers.js';

describe('S3 destination', () => {
  const dirs: string[] = [];
  const cleanup: Deployment[] = [];
  let s3: TestS3 | undefined;
  afterAll(async () => {
    for (const d of cleanup) await d.drop();
    await s3?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('round trip: upload, then verify and restore from the bucket alone', async () => {
    s3 = await startS3('darezone-backups');
    const env = {
      BACKUP_S3_BUCKET: s3.bucket,
      BACKUP_S3_ENDPOINT: s3.endpoint,
      BACKUP_S3_REGION: 'us-east-1',
      BACKUP_S3_ACCESS_KEY_ID: 'S3RVER',
      BACKUP_S3_SECRET_ACCESS_KEY: 'S3RVER',
      BACKUP_S3_PREFIX: 'dz/',
      BACKUP_ENCRYPTION_KEY: 'b'.repeat(64),
    };
    const dirA = tempDir();
    dirs.push(dirA);
    const source = await createDeployment({ backupDir: dirA, env });
    cleanup.push(source);
    const app = await source.startApp();
    const seeded = await seedThroughApi(source, app);
    const before = await apiView(app, source.storage, seeded);
    const m = await createBackup(source.deps);
    expect((await listBackups(source.deps))[0]!.location).toBe(`s3://${s3.bucket}/dz/${m.id}/`);
    await source.stop();

    // Another machine: an empty BACKUP_DIR, an empty database and media store.
    const dirB = tempDir();
    dirs.push(dirB);
    const target = await createDeployment({ backupDir: dirB, env, empty: true });
    cleanup.push(target);
    await target.stop();
    await restoreBackup({ settings: target.deps.settings, storage: target.storage, clock: target.clock }, 'latest');
    await target.reopen();
    const app2 = await target.startApp();
    const after = await apiView(app2, target.storage, seeded);
    expect(after).toEqual(before);

    // The restore drill from the bucket, into a third empty BACKUP_DIR.
    const dirC = tempDir();
    dirs.push(dirC);
    const r = await verifyBackup({ ...target.deps, settings: { ...target.deps.settings, dir: dirC } }, m.id);
    expect(r.problems).toEqual([]);
    const row = await target.db.withSystem((tx) => tx.one<{ verify_status: string }>(sql`select verify_status from backups where id = ${m.id}`));
    expect(row!.verify_status).toBe('passed');
  }, 240_000);
});
