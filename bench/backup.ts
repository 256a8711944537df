// Backup timings with a realistic volume: 100 users in 5 challenges × 200 days = 100,000
// check-ins (plus 200 media files of 50 KB). Measures create, verify (restore drill) and restore,
// and prints the sizes. Embedded by default; DATABASE_URL=postgres://… for PostgreSQL (the
// database must be empty; a scratch database for the restore is created next to it).
//   npx tsx bench/backup.ts
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { backupDirSize, backupSettings, createBackup, restoreBackup, verifyBackup } from '../src/backup/index.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/open.js';
import { migrate } from '../src/db/migrate.js';
import { systemClock } from '../src/plugins/core.js';
import { createStorage } from '../src/storage/index.js';

const USERS = 100;
const DAYS = 200;
const CHALLENGES = 5;
const MEDIA = 200;
const root = mkdtempSync(path.join(os.tmpdir(), 'darezone-bench-backup-'));
const baseEnv = { APP_ENV: 'test', LOG_LEVEL: 'silent', MEDIA_SIGNING_KEY: 'bench-media-signing-key-0123456789abcdef', BACKUP_DIR: path.join(root, 'backups') };
const config = loadConfig({ ...process.env, ...baseEnv, DATA_DIR: path.join(root, 'a') });
const opened = await openDatabase(config);
const db = opened.db;
if (config.DATABASE_URL) await migrate(db.driver);
const storage = createStorage(config);
const t0 = performance.now();
const creator = randomUUID();
await db.driver.transaction(async (tx) => {
  await tx.run(`insert into users (id, email, password_hash) select case when i = 0 then $1::uuid else gen_random_uuid() end, 'bench' || i || '@example.test', 'x'
    from generate_series(0, ${USERS - 1}) i`, [creator]);
  await tx.run(`insert into user_profiles (user_id, display_name, timezone) select id, 'Bench', 'UTC' from users`);
  for (let c = 0; c < CHALLENGES; c++) {
    const challenge = randomUUID();
    await tx.run(`insert into challenges (id, name, type, status, start_date, end_date, max_members, checkin_type, created_by)
      values ($1, 'Bench', 'group', 'active', '2025-01-01', '2025-12-31', 100, 'any', $2)`, [challenge, creator]);
    await tx.run(`insert into challenge_habits (challenge_id, habit_id, position) values ($1, '00000000-0000-4000-8000-000000000001', 0)`, [challenge]);
    await tx.run(`insert into challenge_members (challenge_id, user_id, role) select $1, id, case when id = $2 then 'creator' else 'member' end from users`, [challenge, creator]);
    await tx.run(`insert into check_ins (challenge_id, habit_id, user_id, local_date, caption, points_earned, streak_after)
      select $1, '00000000-0000-4000-8000-000000000001', u.id, date '2025-01-01' + d, 'day ' || d, 10, d + 1
      from users u cross join generate_series(0, ${DAYS - 1}) d`, [challenge]);
  }
});
for (let i = 0; i < MEDIA; i++) {
  const bytes = randomBytes(50_000);
  await storage.put(`${creator}/${randomUUID()}.jpg`, bytes, { contentType: 'image/jpeg', size: bytes.length });
}
const seeded = performance.now() - t0;
const clock = systemClock;
const settings = backupSettings(config);
const deps = { db, storage, settings, clock };
const rows = Number((await db.driver.run('select count(*) as n from check_ins')).rows[0]!.n);

let t = performance.now();
const m = await createBackup(deps);
const createMs = performance.now() - t;
t = performance.now();
const v = await verifyBackup(deps, m.id);
const verifyMs = performance.now() - t;
if (!v.ok) throw new Error(v.problems.join('; '));
await storage.close();
await opened.close();

// Restore into a fresh target.
let restoreUrl: string | undefined;
if (config.DATABASE_URL) {
  const name = `dz_bench_restore_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: config.DATABASE_URL });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const u = new URL(config.DATABASE_URL);
  u.pathname = `/${name}`;
  restoreUrl = u.toString();
}
const target = loadConfig({ ...process.env, ...baseEnv, DATA_DIR: path.join(root, 'b'), ...(restoreUrl ? { DATABASE_URL: restoreUrl } : {}) });
const targetStorage = createStorage(target);
t = performance.now();
await restoreBackup({ settings: backupSettings(target), storage: targetStorage, clock }, m.id);
const restoreMs = performance.now() - t;
await targetStorage.close();

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
console.log(`engine ${m.engine}; ${rows} check-ins, ${USERS} users, ${CHALLENGES} challenges, ${MEDIA} media files (${mb(m.sizes.media_bytes)}); seeded in ${s(seeded)}`);
console.log(`database dump ${mb(m.sizes.database_bytes)} uncompressed, ${mb(Object.values(m.files)[0]!.size)} stored; BACKUP_DIR ${mb(await backupDirSize(settings.dir))}`);
console.log(`create ${s(createMs)} | verify ${s(verifyMs)} | restore ${s(restoreMs)}`);
if (restoreUrl) {
  const c = new pg.Client({ connectionString: config.DATABASE_URL });
  await c.connect();
  await c.query(`drop database ${new URL(restoreUrl).pathname.slice(1)} with (force)`);
  await c.end();
}
rmSync(root, { recursive: true, force: true });
