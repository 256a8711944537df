// A `darezone backup create` killed part-way (SIGKILL: no clean-up code runs) leaves nothing that
// `list` shows as complete, and the next backup succeeds (and sweeps the leftovers).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode, waitFor } from '../helpers/process.js';
import { usingPostgres } from '../helpers/database.js';
import { createDeployment, seedThroughApi, tempDir, type Deployment } from './helpers.js';

describe('a killed backup', () => {
  const backupDir = tempDir();
  let d: Deployment | undefined;
  afterAll(async () => {
    await d?.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('never looks complete; the next backup succeeds', async () => {
    d = await createDeployment({ backupDir });
    await seedThroughApi(d, await d.startApp());
    await d.stop(); // the CLI needs DATA_DIR to itself (embedded)

    const env = {
      DATA_DIR: d.config.DATA_DIR,
      BACKUP_DIR: backupDir,
      LOG_LEVEL: 'silent',
      MEDIA_SIGNING_KEY: d.config.MEDIA_SIGNING_KEY,
      ...(d.databaseUrl ? { DATABASE_URL: d.databaseUrl } : {}),
    };
    const child = spawnNode(['src/cli/index.ts', 'backup', 'create'], env);
    await waitFor(() => readdirSync(backupDir).some((n) => n.startsWith('.tmp-')), 60_000, 'a .tmp- directory');
    child.child.kill('SIGKILL');
    await child.exited;
    expect(readdirSync(backupDir).filter((n) => /^\d{8}T/.test(n))).toEqual([]);

    const list = spawnNode(['src/cli/index.ts', 'backup', 'list'], env);
    expect(await list.exited).toBe(0);
    // The killed backup's row is "running" (or absent): nothing completed is listed.
    expect(list.stdout()).not.toMatch(/\tcompleted\t/);

    const again = spawnNode(['src/cli/index.ts', 'backup', 'create'], env);
    expect(await again.exited, again.stderr()).toBe(0);
    const id = again.stdout().trim();
    expect(id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    expect(existsSync(path.join(backupDir, id, 'manifest.json'))).toBe(true);
    expect(readdirSync(backupDir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);

    const list2 = spawnNode(['src/cli/index.ts', 'backup', 'list'], env);
    expect(await list2.exited).toBe(0);
    const lines = list2.stdout().trim().split('\n');
    expect(lines[0]!.startsWith(`${id}\tcompleted\t`)).toBe(true);
  }, 240_000);

  // Embedded only: with PostgreSQL there is no DATA_DIR lock to collide with.
  if (!usingPostgres()) it('refuses while a server holds DATA_DIR, pointing at the admin API', async () => {
    const dataDir = tempDir('darezone-data-');
    const { lockDataDir } = await import('../../src/db/data-dir-lock.js');
    const lock = lockDataDir(dataDir); // this test process stands in for the server
    try {
      const child = spawnNode(['src/cli/index.ts', 'backup', 'create'], { DATA_DIR: dataDir, BACKUP_DIR: backupDir, LOG_LEVEL: 'silent' });
      expect(await child.exited).toBe(1);
      expect(child.stderr().trim().split('\n')).toHaveLength(1);
      expect(child.stderr()).toMatch(/in use by a running DareZone server .*POST \/api\/v1\/admin\/backups/);
    } finally {
      lock.release();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
