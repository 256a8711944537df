// A "deployment" for backup tests: its own DATA_DIR (embedded, file-based PGlite) or its own
// PostgreSQL database (TEST_DATABASE_URL), a local media store, and the real app on top. Several
// deployments can share one BACKUP_DIR: back up one, restore into another.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.js';
import { backupSettings, type BackupDeps } from '../../src/backup/index.js';
import type { Config } from '../../src/config.js';
import { openDriver } from '../../src/db/client.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { createStorage } from '../../src/storage/index.js';
import type { Storage } from '../../src/storage/types.js';
import { testConfig } from '../helpers/app.js';
import { TestClock } from '../helpers/clock.js';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.js';

export const tempDir = (name = 'darezone-backup-') => mkdtempSync(path.join(os.tmpdir(), name));

export interface Deployment {
  config: Config;
  db: Database;
  storage: Storage;
  clock: TestClock;
  deps: BackupDeps;
  databaseUrl?: string;
  app?: FastifyInstance;
  startApp(): Promise<FastifyInstance>;
  /** Stops the app and closes the database (the DATA_DIR / database stay). */
  stop(): Promise<void>;
  /** Reopens after a restore. */
  reopen(): Promise<void>;
  drop(): Promise<void>;
}

export async function createDeployment(opts: { backupDir: string; env?: Record<string, string>; clock?: TestClock; dataDir?: string; databaseUrl?: string; empty?: boolean }): Promise<Deployment> {
  const dataDir = opts.dataDir ?? tempDir('darezone-data-');
  let databaseUrl = opts.databaseUrl;
  let dropPg: (() => Promise<void>) | undefined;
  if (usingPostgres() && !databaseUrl) {
    const created = await createPostgresDatabase();
    databaseUrl = created.url;
    dropPg = () => created.drop();
  }
  const config = testConfig({
    DATA_DIR: dataDir,
    BACKUP_DIR: opts.backupDir,
    MEDIA_SIGNING_KEY: 'media-signing-key-for-backup-tests-0123456789',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...opts.env,
  });
  const clock = opts.clock ?? new TestClock();
  const open = async () => {
    if (databaseUrl) {
      const db = new Database(await openDriver({ databaseUrl, poolMax: 4 }));
      if (!opts.empty) await migrate(db.driver);
      return { db, close: () => db.close() };
    }
    return openDatabase(config, { migrate: !opts.empty });
  };
  let opened = await open();
  const d: Deployment = {
    config,
    db: opened.db,
    storage: createStorage(config),
    clock,
    databaseUrl,
    deps: undefined as unknown as BackupDeps,
    async startApp() {
      d.app = await buildApp({ config, db: d.db, clock });
      return d.app;
    },
    async stop() {
      await d.app?.close();
      d.app = undefined;
      await opened.close();
    },
    async reopen() {
      opts.empty = false;
      opened = await open();
      d.db = opened.db;
      d.deps = { ...d.deps, db: d.db };
    },
    async drop() {
      await d.app?.close().catch(() => undefined);
      await opened.close().catch(() => undefined);
      await dropPg?.();
    },
  };
  d.deps = { db: d.db, storage: d.storage, settings: backupSettings(config), clock };
  return d;
}

export const SYSTEM_HABIT = '00000000-0000-4000-8000-000000000001';

/** Users (through the API), a challenge, check-ins with photos: what a restore must bring back. */
export async function seedThroughApi(d: Deployment, app: FastifyInstance) {
  const password = 'Backup-Test-Password-42';
  const users: { id: string; email: string; token: string }[] = [];
  for (const name of ['alice', 'bob']) {
    const email = `${name}-${randomUUID().slice(0, 6)}@example.test`;
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, password, display_name: name } });
    if (res.statusCode !== 201) throw new Error(`signup ${res.statusCode} ${res.body}`);
    const s = res.json<{ access_token: string; user: { id: string } }>();
    users.push({ id: s.user.id, email, token: s.access_token });
  }
  const challenge = randomUUID();
  const photos: { id: string; key: string; bytes: Buffer }[] = [];
  await d.db.withSystem(async (tx) => {
    await tx.execute(sql`insert into challenges (id, name, type, status, start_date, end_date, max_members, checkin_type, created_by)
      values (${challenge}, 'Backup challenge', 'group', 'active', '2026-06-01', '2026-06-30', 10, 'any', ${users[0]!.id})`);
    await tx.execute(sql`insert into challenge_habits (challenge_id, habit_id, position) values (${challenge}, ${SYSTEM_HABIT}, 0)`);
    for (const [i, u] of users.entries()) {
      await tx.execute(sql`insert into challenge_members (challenge_id, user_id, role) values (${challenge}, ${u.id}, ${i === 0 ? 'creator' : 'member'})`);
    }
  });
  for (const [i, u] of users.entries()) {
    for (let day = 1; day <= 3; day++) {
      const id = randomUUID();
      const key = `${u.id}/${id}.jpg`;
      const bytes = randomBytes(2000 + i * 100 + day);
      await d.storage.put(key, bytes, { contentType: 'image/jpeg', size: bytes.length });
      const sha = createHash('sha256').update(bytes).digest('hex');
      await d.db.withSystem(async (tx) => {
        await tx.execute(sql`insert into media (id, owner_id, kind, content_type, size_bytes, width, height, storage_key, sha256)
          values (${id}, ${u.id}, 'photo', 'image/jpeg', ${bytes.length}, 10, 10, ${key}, ${sha})`);
        await tx.execute(sql`insert into check_ins (challenge_id, habit_id, user_id, local_date, photo_media_id, caption, points_earned, streak_after)
          values (${challenge}, ${SYSTEM_HABIT}, ${u.id}, ${`2026-06-0${day}`}, ${id}, ${`day ${day}`}, 10, ${day})`);
      });
      photos.push({ id, key, bytes });
    }
  }
  return { users, challenge, photos, password };
}

/** What the API shows: every user's check-ins and media metadata, and the stored bytes. */
export async function apiView(app: FastifyInstance, storage: Storage, seeded: Awaited<ReturnType<typeof seedThroughApi>>) {
  const view: Record<string, unknown> = {};
  for (const u of seeded.users) {
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: u.email, password: seeded.password } });
    if (login.statusCode !== 200) throw new Error(`login ${login.statusCode} ${login.body}`);
    const auth = { authorization: `Bearer ${login.json<{ access_token: string }>().access_token}` };
    const me = await app.inject({ url: '/api/v1/users/me', headers: auth });
    const checkins = await app.inject({ url: '/api/v1/checkins?limit=100', headers: auth });
    const challenge = await app.inject({ url: `/api/v1/challenges/${seeded.challenge}`, headers: auth });
    view[u.email] = { me: me.json(), checkins: checkins.json(), challenge: challenge.statusCode };
  }
  const media: Record<string, string> = {};
  for (const p of seeded.photos) {
    const chunks: Buffer[] = [];
    for await (const c of await storage.getStream(p.key)) chunks.push(c as Buffer);
    media[p.key] = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
  }
  return { view, media };
}
