// verify catches damage (and marks the backup failed); encryption needs the key; retention keeps
// 30 days, the newest verified backup, and everything when the newest backup failed.
import { readFileSync, rmSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupSettings, blobPath, createBackup, listBackups, pruneBackups, restoreBackup, verifyBackup, type Manifest } from '../../src/backup/index.js';
import { TestClock } from '../helpers/clock.js';
import { createDeployment, seedThroughApi, tempDir, type Deployment } from './helpers.js';

const KEY = 'a'.repeat(64);

describe('verify detects damage', () => {
  const backupDir = tempDir();
  let d: Deployment;
  let m: Manifest;
  beforeAll(async () => {
    d = await createDeployment({ backupDir });
    await seedThroughApi(d, await d.startApp());
  }, 120_000);
  afterAll(async () => {
    await d.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  const row = async (id: string) => (await listBackups(d.deps)).find((b) => b.id === id)!;
  const fresh = async () => {
    d.clock.advance(60_000);
    m = await createBackup(d.deps);
    return m;
  };

  it('a flipped byte in the dump', async () => {
    await fresh();
    const file = path.join(backupDir, m.id, 'database.dump.gz');
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(file, bytes);
    const r = await verifyBackup(d.deps, m.id);
    expect(r.ok).toBe(false);
    expect(r.problems.join()).toMatch(/database\.dump\.gz: sha256 does not match/);
    expect(await row(m.id)).toMatchObject({ status: 'failed', verify_status: 'failed' });
  }, 120_000);

  it('a missing media blob', async () => {
    await fresh();
    rmSync(blobPath(backupDir, m.media[0]!.sha256, false));
    const r = await verifyBackup(d.deps, m.id);
    expect(r.ok).toBe(false);
    expect(r.problems.join()).toMatch(/blob .* missing/);
    expect(await row(m.id)).toMatchObject({ status: 'failed', verify_status: 'failed' });
  }, 120_000);

  it('a manifest row count that does not match', async () => {
    await fresh();
    const file = path.join(backupDir, m.id, 'manifest.json');
    const doctored = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    doctored.tables.check_ins!.rows += 1;
    writeFileSync(file, JSON.stringify(doctored));
    const r = await verifyBackup(d.deps, m.id);
    expect(r.ok).toBe(false);
    expect(r.problems).toContain('table check_ins: 7 rows, manifest says 7'.replace('7 rows', '6 rows'));
    expect(await row(m.id)).toMatchObject({ status: 'failed', verify_status: 'failed' });
    expect((await row(m.id)).verify_duration_ms).toBeGreaterThanOrEqual(0);
  }, 120_000);
});

describe('encryption', () => {
  const backupDir = tempDir();
  const cleanup: Deployment[] = [];
  afterAll(async () => {
    for (const x of cleanup) await x.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('cannot be restored without the key, restores with it', async () => {
    const d = await createDeployment({ backupDir, env: { BACKUP_ENCRYPTION_KEY: KEY } });
    cleanup.push(d);
    await seedThroughApi(d, await d.startApp());
    const m = await createBackup(d.deps);
    expect(m.encrypted).toBe(true);
    expect(Object.keys(m.files)).toEqual(['database.dump.gz.enc']);
    // Stored bytes are not the plaintext: no gzip magic, our header instead.
    const stored = readFileSync(path.join(backupDir, m.id, 'database.dump.gz.enc'));
    expect(stored.subarray(0, 4).toString()).toBe('DZB1');
    const blobs = readdirSync(path.join(backupDir, 'media'), { recursive: true }).map(String).filter((f) => f.endsWith('.enc'));
    expect(blobs.length).toBe(6);
    await d.stop();

    const target = await createDeployment({ backupDir, empty: true });
    cleanup.push(target);
    await target.stop();
    const noKey = { settings: target.deps.settings, storage: target.storage, clock: target.clock };
    await expect(restoreBackup(noKey, m.id)).rejects.toThrow(/is encrypted: set BACKUP_ENCRYPTION_KEY/);
    const wrong = { ...noKey, settings: { ...target.deps.settings, key: Buffer.alloc(32, 7) } };
    await expect(restoreBackup(wrong, m.id)).rejects.toThrow(/not the key backup/);
    const withKey = { ...noKey, settings: backupSettings({ ...target.config, BACKUP_ENCRYPTION_KEY: KEY }) };
    await restoreBackup(withKey, m.id);
    await target.reopen();
    const n = await target.db.withSystem((tx) => tx.one<{ n: number }>(sql`select count(*)::int as n from check_ins`));
    expect(n!.n).toBe(6);
    let objects = 0;
    for await (const _ of target.storage.list()) objects += _ ? 1 : 0;
    expect(objects).toBe(6);
  }, 240_000);
});

describe('retention', () => {
  const backupDir = tempDir();
  let d: Deployment;
  const clock = new TestClock('2026-01-01T02:00:00Z');
  beforeAll(async () => {
    d = await createDeployment({ backupDir, clock });
  }, 60_000);
  afterAll(async () => {
    await d.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  // Backups are made cheaply here: a manifest-only directory plus a row, one per day (the real
  // create path is covered above; retention only looks at ids, rows and manifests).
  async function fakeBackup(at: Date, status: 'completed' | 'failed' = 'completed', verified = false) {
    const id = `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
    if (status === 'completed') {
      mkdirSync(path.join(backupDir, id), { recursive: true });
      const m = { id, engine: d.db.engine, created_at: at.toISOString(), media: [], encrypted: false, files: {}, tables: {}, sizes: { stored_bytes: 1 } };
      writeFileSync(path.join(backupDir, id, 'manifest.json'), JSON.stringify(m));
    }
    await d.db.withSystem((tx) =>
      tx.execute(sql`insert into backups (id, status, engine, started_at, finished_at, verified_at, verify_status)
        values (${id}, ${status}, ${d.db.engine}, ${at}, ${at}, ${verified ? at : null}, ${verified ? 'passed' : null})`),
    );
    return id;
  }

  it('40 daily backups → 30 kept; the newest verified survives; a failed newest prunes nothing', async () => {
    const ids: string[] = [];
    for (let day = 0; day < 40; day++) {
      ids.push(await fakeBackup(new Date(clock.now().getTime() + day * 86_400_000), 'completed', day === 2));
    }
    clock.advanceDays(39);
    clock.advance(30 * 60_000); // "now" = the 40th backup's day at 02:30 (the prune job's slot)
    // Media blobs: one referenced by nobody is collected.
    mkdirSync(path.join(backupDir, 'media', 'ab'), { recursive: true });
    writeFileSync(path.join(backupDir, 'media', 'ab', 'ab'.padEnd(64, '0')), 'orphan');

    const r = await pruneBackups(d.deps);
    const left = (await listBackups(d.deps)).map((b) => b.id);
    // The 30 newest (days 10..39) are inside the window; day 2 is kept as the newest verified backup.
    const expected = ids.filter((_, day) => day >= 10 || day === 2).reverse();
    expect(expected).toHaveLength(31);
    expect(r.deleted).toHaveLength(9);
    expect(left).toEqual(expected);
    expect(left).toContain(ids[2]); // the newest verified backup, 37 days old
    expect(r.blobsDeleted).toBe(1);

    // The newest backup failed: nothing is deleted, however old.
    clock.advanceDays(20);
    await fakeBackup(clock.now(), 'failed');
    const r2 = await pruneBackups(d.deps);
    expect(r2.deleted).toEqual([]);
    expect(r2.reason).toMatch(/failed/);
    expect((await listBackups(d.deps)).length).toBe(left.length + 1);
  }, 120_000);
});
