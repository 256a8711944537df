// Backups (§5.4): create, list, verify (restore drill), restore, prune. Layout under BACKUP_DIR:
//   <ID>/manifest.json, <ID>/database.dump.gz[.enc]      one directory per complete backup
//   media/<sha[0:2]>/<sha>[.enc]                         media blobs, content-addressed, shared
//   .tmp-<ID>/                                           a backup being written (renamed when done)
// A directory counts as a backup only when it is named <ID> and holds manifest.json, which is the
// last file written before the rename: a killed backup never looks complete.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, mkdir, rename, rm, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import { embeddedDbDir, openDriver } from '../db/client.js';
import { Database } from '../db/database.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from '../db/data-dir-lock.js';
import type { Clock } from '../plugins/core.js';
import type { Storage } from '../storage/types.js';
import { APP_VERSION } from '../version.js';
import { BackupKeyError, isDecryptError, keyId, parseBackupKey } from './crypto.js';
import { exists, readStored, readStoredToFile, sha256File, writeStored } from './files.js';
import { dumpPostgres, postgresIsEmpty, restorePostgres, scratchStatsPostgres, wipePostgres } from './postgres.js';
import { createBackupS3, type BackupS3, type S3Settings } from './s3.js';
import { compareStats, tableStats, type TableStats } from './stats.js';

export const FORMAT_VERSION = 1;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;

export class BackupError extends Error {
  override name = 'BackupError';
}

/** Another backup operation (create, prune, verify, restore) holds BACKUP_DIR right now. */
export class BackupBusyError extends BackupError {
  override name = 'BackupBusyError';
}

export interface BackupSettings {
  dir: string;
  retentionDays: number;
  key?: Buffer | undefined;
  databaseUrl?: string | undefined;
  dataDir: string;
  s3?: S3Settings | undefined;
}

export function backupSettings(config: Config): BackupSettings {
  return {
    dir: path.resolve(config.BACKUP_DIR ?? path.join(config.dataDir, 'backups')),
    retentionDays: config.BACKUP_RETENTION_DAYS,
    key: parseBackupKey(config.BACKUP_ENCRYPTION_KEY),
    databaseUrl: config.DATABASE_URL,
    dataDir: config.dataDir,
    s3: config.BACKUP_S3_BUCKET
      ? {
          bucket: config.BACKUP_S3_BUCKET,
          region: config.BACKUP_S3_REGION ?? 'us-east-1',
          endpoint: config.BACKUP_S3_ENDPOINT,
          prefix: config.BACKUP_S3_PREFIX,
          credentials:
            config.BACKUP_S3_ACCESS_KEY_ID && config.BACKUP_S3_SECRET_ACCESS_KEY
              ? { accessKeyId: config.BACKUP_S3_ACCESS_KEY_ID, secretAccessKey: config.BACKUP_S3_SECRET_ACCESS_KEY }
              : undefined,
        }
      : undefined,
  };
}

export interface MediaEntry {
  key: string;
  sha256: string;
  size: number;
  modified: string;
}

export interface Manifest {
  format_version: number;
  id: string;
  app_version: string;
  schema_version: number;
  engine: 'pglite' | 'postgres';
  created_at: string;
  tables: Record<string, TableStats>;
  files: Record<string, { sha256: string; size: number }>;
  media: MediaEntry[];
  encrypted: boolean;
  key_id: string | null;
  sizes: { database_bytes: number; stored_bytes: number; media_bytes: number; media_new_bytes: number };
}

export interface BackupDeps {
  db: Database;
  storage: Storage;
  settings: BackupSettings;
  clock: Clock;
  /** Step names and counts (the CLI prints them on a terminal). */
  progress?: ((message: string) => void) | undefined;
}

export interface BackupEntry {
  id: string;
  status: 'running' | 'completed' | 'failed';
  created_at: string;
  size_bytes: number | null;
  duration_ms: number | null;
  location: string | null;
  error: string | null;
  verified_at: string | null;
  verify_status: 'passed' | 'failed' | null;
  verify_duration_ms: number | null;
  verify_error: string | null;
  engine: string;
  /** A complete copy exists in BACKUP_DIR. */
  local: boolean;
}

// ---------------------------------------------------------------------------------------------
// Names and paths

export function newBackupId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export function idTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  if (!m) return new Date(0);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

const dumpName = (encrypted: boolean) => `database.dump.gz${encrypted ? '.enc' : ''}`;
export const blobPath = (dir: string, sha: string, encrypted: boolean) => path.join(dir, 'media', sha.slice(0, 2), `${sha}${encrypted ? '.enc' : ''}`);

function lockBackupDir(dir: string): DataDirLock {
  try {
    return lockDataDir(path.join(dir, '.lock.d'));
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new BackupBusyError(`another backup operation is running (pid ${err.pid})`, { cause: err });
    throw err;
  }
}

export async function readManifest(dir: string, id: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, id, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

async function localIds(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const ids: string[] = [];
  for (const name of names) {
    if (!ID_PATTERN.test(name)) continue;
    if (await exists(path.join(dir, name, 'manifest.json'))) ids.push(name);
  }
  return ids.sort().reverse();
}

function contentTypeFor(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return (
    { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', mp4: 'video/mp4', mov: 'video/quicktime' }[ext] ??
    'application/octet-stream'
  );
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 2000);
}

// ---------------------------------------------------------------------------------------------
// Table bookkeeping

interface BackupRow {
  id: string;
  engine: string;
  status: BackupEntry['status'];
  location: string | null;
  size_bytes: number | null;
  duration_ms: number | null;
  error: string | null;
  started_at: Date;
  verified_at: Date | null;
  verify_status: BackupEntry['verify_status'];
  verify_duration_ms: number | null;
  verify_error: string | null;
}

async function rows(db: Database): Promise<BackupRow[]> {
  return db.withSystem((tx) =>
    tx.query<BackupRow>(sql`select id, engine, status, location, size_bytes, duration_ms, error, started_at, verified_at, verify_status,
      verify_duration_ms, verify_error from backups order by id desc`),
  );
}

async function recordCompleted(db: Database, m: Manifest, location: string, durationMs: number | null, finishedAt: Date): Promise<void> {
  await db.withSystem((tx) =>
    tx.execute(sql`insert into backups (id, status, engine, location, size_bytes, duration_ms, manifest, started_at, finished_at)
      values (${m.id}, 'completed', ${m.engine}, ${location}, ${m.sizes.stored_bytes}, ${durationMs}, ${JSON.stringify(m)}::jsonb,
              ${new Date(m.created_at)}, ${finishedAt})
      on conflict (id) do update set status = 'completed', location = excluded.location, size_bytes = excluded.size_bytes,
        duration_ms = coalesce(excluded.duration_ms, backups.duration_ms), manifest = excluded.manifest, error = null,
        finished_at = coalesce(backups.finished_at, excluded.finished_at)`),
  );
}

/**
 * Directory and table together. The table can be behind the directory (a restore brings back the
 * past, where newer backups do not exist yet or the restored backup itself is still "running"), so
 * every complete directory gets a completed row.
 */
export async function listBackups(deps: Pick<BackupDeps, 'db' | 'settings' | 'clock'>): Promise<BackupEntry[]> {
  const { dir } = deps.settings;
  const ids = new Set(await localIds(dir));
  let table = await rows(deps.db);
  const byId = new Map(table.map((r) => [r.id, r]));
  let changed = false;
  for (const id of ids) {
    const row = byId.get(id);
    // A row that finished (completed, or failed e.g. by a failed drill) is the truth; only a
    // missing row or one still "running" (the restored past) is brought up to date.
    if (row && row.status !== 'running') continue;
    const m = await readManifest(dir, id);
    if (!m) continue;
    await recordCompleted(deps.db, m, path.join(dir, id), null, deps.clock.now());
    changed = true;
  }
  if (changed) table = await rows(deps.db);
  return table.map((r) => ({
    id: r.id,
    status: r.status,
    created_at: idTime(r.id).getTime() > 0 ? idTime(r.id).toISOString() : r.started_at.toISOString(),
    size_bytes: r.size_bytes,
    duration_ms: r.duration_ms,
    location: r.location,
    error: r.error,
    verified_at: r.verified_at?.toISOString() ?? null,
    verify_status: r.verify_status,
    verify_duration_ms: r.verify_duration_ms,
    verify_error: r.verify_error,
    engine: r.engine,
    local: ids.has(r.id),
  }));
}

// ---------------------------------------------------------------------------------------------
// Create

async function dumpDatabase(db: Database, settings: BackupSettings, target: string) {
  const driver = db.driver;
  if (driver.engine === 'postgres') {
    const url = settings.databaseUrl ?? driverUrl(driver);
    if (!url) throw new BackupError('DATABASE_URL is required for a PostgreSQL backup');
    const pass = new PassThrough();
    const writing = writeStored(pass, target, { gzip: true, key: settings.key });
    try {
      const tables = await dumpPostgres(driver, url, pass);
      return { tables, ...(await writing) };
    } catch (err) {
      pass.destroy(err as Error);
      await writing.catch(() => undefined);
      throw err;
    }
  }
  if (!driver.dump) throw new BackupError('this database cannot be dumped');
  const blob = await driver.dump();
  const written = await writeStored(Readable.fromWeb(blob.stream() as never), target, { gzip: true, key: settings.key });
  // The manifest describes exactly what was dumped: the tarball loaded into a scratch database.
  const tables = await pgliteStats(blob);
  return { tables, ...written };
}

async function pgliteStats(blob: Blob): Promise<Record<string, TableStats>> {
  const scratch = await PGlite.create({ loadDataDir: blob });
  try {
    return await tableStats((text) => scratch.query(text));
  } finally {
    await scratch.close();
  }
}

async function copyMedia(deps: BackupDeps, previous: Manifest | undefined): Promise<{ media: MediaEntry[]; bytes: number; newBytes: number }> {
  const { dir, key } = deps.settings;
  const encrypted = Boolean(key);
  const known = new Map((previous && previous.encrypted === encrypted ? previous.media : []).map((m) => [m.key, m]));
  const media: MediaEntry[] = [];
  let bytes = 0;
  let newBytes = 0;
  const incoming = path.join(dir, 'media', '.incoming');
  for await (const obj of deps.storage.list()) {
    const modified = obj.lastModified.toISOString();
    const prior = known.get(obj.key);
    if (prior && prior.size === obj.size && prior.modified === modified && (await exists(blobPath(dir, prior.sha256, encrypted)))) {
      media.push(prior);
      bytes += prior.size;
      continue;
    }
    const tmp = path.join(incoming, randomBytes(8).toString('hex'));
    const { plain } = await writeStored(await deps.storage.getStream(obj.key), tmp, { gzip: false, key });
    const target = blobPath(dir, plain.sha256, encrypted);
    if (await exists(target)) {
      await rm(tmp, { force: true });
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      await rename(tmp, target);
      newBytes += plain.size;
    }
    media.push({ key: obj.key, sha256: plain.sha256, size: plain.size, modified });
    bytes += plain.size;
    if (media.length % 100 === 0) deps.progress?.(`media: ${media.length} files`);
  }
  return { media, bytes, newBytes };
}

/** Leftovers of killed runs: .tmp-* directories and rows still "running" after an hour. */
async function cleanUpStale(deps: BackupDeps): Promise<void> {
  const { dir } = deps.settings;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith('.tmp-')) await rm(path.join(dir, name), { recursive: true, force: true });
  }
  await rm(path.join(dir, 'media', '.incoming'), { recursive: true, force: true });
  const cutoff = new Date(deps.clock.now().getTime() - HOUR);
  await deps.db.withSystem((tx) =>
    tx.execute(sql`update backups set status = 'failed', error = 'abandoned (the backup process ended before finishing)',
      finished_at = ${deps.clock.now()} where status = 'running' and started_at < ${cutoff}`),
  );
}

export async function createBackup(deps: BackupDeps): Promise<Manifest> {
  const { dir, key } = deps.settings;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = lockBackupDir(dir);
  const started = performance.now();
  const now = deps.clock.now();
  const id = newBackupId(now);
  const engine = deps.db.engine;
  try {
    await cleanUpStale(deps);
    await deps.db.withSystem((tx) =>
      tx.execute(sql`insert into backups (id, status, engine, location, started_at) values (${id}, 'running', ${engine}, ${path.join(dir, id)}, ${now})`),
    );
    const tmp = path.join(dir, `.tmp-${id}`);
    try {
      await mkdir(tmp, { recursive: true });
      deps.progress?.('database: dumping');
      const dumpFile = dumpName(Boolean(key));
      const dump = await dumpDatabase(deps.db, deps.settings, path.join(tmp, dumpFile));
      const schema = await deps.db.driver.run('select coalesce(max(version), 0) as v from schema_migrations');
      deps.progress?.(`database: ${Object.values(dump.tables).reduce((n, t) => n + t.rows, 0)} rows in ${Object.keys(dump.tables).length} tables`);
      const previousId = (await localIds(dir))[0];
      const previous = previousId ? await readManifest(dir, previousId) : undefined;
      deps.progress?.('media: copying');
      const media = await copyMedia(deps, previous);
      deps.progress?.(`media: ${media.media.length} files, ${media.newBytes} new bytes`);
      const manifest: Manifest = {
        format_version: FORMAT_VERSION,
        id,
        app_version: APP_VERSION,
        schema_version: Number(schema.rows[0]!.v),
        engine,
        created_at: now.toISOString(),
        tables: dump.tables,
        files: { [dumpFile]: dump.stored },
        media: media.media,
        encrypted: Boolean(key),
        key_id: key ? keyId(key) : null,
        sizes: { database_bytes: dump.plain.size, stored_bytes: dump.stored.size + media.newBytes, media_bytes: media.bytes, media_new_bytes: media.newBytes },
      };
      await writeFile(path.join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600, flush: true });
      await rename(tmp, path.join(dir, id));
      let location = path.join(dir, id);
      if (deps.settings.s3) {
        deps.progress?.('s3: uploading');
        const s3 = createBackupS3(deps.settings.s3);
        try {
          location = await s3.upload(dir, manifest);
        } finally {
          s3.close();
        }
      }
      await recordCompleted(deps.db, manifest, location, Math.round(performance.now() - started), deps.clock.now());
      deps.progress?.(`done: ${id}`);
      return manifest;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      await deps.db
        .withSystem((tx) =>
          tx.execute(sql`update backups set status = 'failed', error = ${errorText(err)}, finished_at = ${deps.clock.now()},
            duration_ms = ${Math.round(performance.now() - started)} where id = ${id}`),
        )
        .catch(() => undefined);
      throw err;
    }
  } finally {
    lock.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Resolving, fetching, checking files

async function resolveId(settings: BackupSettings, wanted: string, s3: BackupS3 | undefined): Promise<string> {
  if (wanted !== 'latest') {
    if (!ID_PATTERN.test(wanted)) throw new BackupError(`not a backup id: ${wanted}`);
    return wanted;
  }
  const ids = new Set(await localIds(settings.dir));
  if (s3) for (const id of await s3.listIds()) ids.add(id);
  const newest = [...ids].sort().reverse()[0];
  if (!newest) throw new BackupError(`no backups in ${settings.dir}${s3 ? ' or S3' : ''}`);
  return newest;
}

/** The backup's manifest, fetched from S3 into BACKUP_DIR first when it is not local. */
async function ensureLocal(settings: BackupSettings, id: string, s3: BackupS3 | undefined, progress?: (m: string) => void): Promise<Manifest> {
  const local = await readManifest(settings.dir, id);
  if (local) return local;
  if (!s3) throw new BackupError(`no backup ${id} in ${settings.dir}`);
  progress?.(`s3: fetching ${id}`);
  const m = await s3.fetch(settings.dir, id);
  if (!m) throw new BackupError(`no backup ${id} in ${settings.dir} or S3`);
  return m;
}

function requireKey(settings: BackupSettings, m: Manifest): Buffer | undefined {
  if (!m.encrypted) return undefined;
  if (!settings.key) throw new BackupKeyError(`backup ${m.id} is encrypted: set BACKUP_ENCRYPTION_KEY to the key it was made with (key id ${m.key_id})`);
  if (m.key_id && keyId(settings.key) !== m.key_id) {
    throw new BackupKeyError(`BACKUP_ENCRYPTION_KEY (key id ${keyId(settings.key)}) is not the key backup ${m.id} was made with (key id ${m.key_id})`);
  }
  return settings.key;
}

async function checkFiles(dir: string, m: Manifest): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(m.files)) {
    const file = path.join(dir, m.id, name);
    if (!(await exists(file))) {
      problems.push(`file ${name} missing`);
      continue;
    }
    const got = await sha256File(file);
    if (got.sha256 !== want.sha256 || got.size !== want.size) problems.push(`file ${name}: sha256 does not match the manifest (corrupted)`);
  }
  return problems;
}

async function checkMedia(dir: string, m: Manifest, key: Buffer | undefined): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of m.media) {
    if (seen.has(entry.sha256)) continue;
    seen.add(entry.sha256);
    const file = blobPath(dir, entry.sha256, m.encrypted);
    if (!(await exists(file))) {
      problems.push(`media ${entry.key}: blob ${entry.sha256} missing`);
      continue;
    }
    try {
      const { hasher } = await import('./files.js');
      const h = hasher();
      const stream = await readStored(file, { gzip: false, key });
      for await (const chunk of stream.pipe(h.tap)) void chunk;
      if (h.digest() !== entry.sha256) problems.push(`media ${entry.key}: blob content does not match its sha256`);
    } catch (err) {
      problems.push(`media ${entry.key}: ${isDecryptError(err) ? 'cannot be decrypted (tampered)' : errorText(err)}`);
    }
  }
  return problems;
}

/** Decrypts and decompresses the dump into a temporary file; returns its path. */
async function plainDump(dir: string, m: Manifest, key: Buffer | undefined): Promise<string> {
  const work = path.join(dir, `.work-${randomBytes(4).toString('hex')}`);
  await mkdir(work, { recursive: true, mode: 0o700 });
  const out = path.join(work, 'database.dump');
  try {
    await readStoredToFile(path.join(dir, m.id, dumpName(m.encrypted)), out, { gzip: true, key });
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    if (isDecryptError(err)) throw new BackupKeyError(`backup ${m.id} cannot be decrypted: wrong BACKUP_ENCRYPTION_KEY or a tampered file`);
    throw err;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Verify (the restore drill)

export interface VerifyResult {
  id: string;
  ok: boolean;
  problems: string[];
  durationMs: number;
}

export async function verifyBackup(deps: BackupDeps, /** an id, 'latest' or 'unverified' (the newest completed backup not yet verified) */ wanted: string): Promise<VerifyResult> {
  const { settings } = deps;
  const s3 = settings.s3 ? createBackupS3(settings.s3) : undefined;
  try {
    let id: string;
    if (wanted === 'unverified') {
      const entries = (await listBackups(deps)).filter((e) => e.status === 'completed' && e.engine === deps.db.engine);
      const pick = entries.find((e) => !e.verified_at);
      if (!pick) throw new BackupError('no unverified completed backup');
      id = pick.id;
    } else {
      id = await resolveId(settings, wanted, s3);
    }
    const started = performance.now();
    const m = await ensureLocal(settings, id, s3, deps.progress);
    const key = requireKey(settings, m);
    deps.progress?.('verify: files');
    const problems = await checkFiles(settings.dir, m);
    if (problems.length === 0) {
      deps.progress?.('verify: restoring into a scratch database');
      let dumpFile: string | undefined;
      try {
        dumpFile = await plainDump(settings.dir, m, key);
        const actual = await scratchStats(m, settings, dumpFile, deps.db);
        problems.push(...compareStats(m.tables, actual));
      } catch (err) {
        if (err instanceof BackupKeyError) throw err;
        problems.push(`restore failed: ${errorText(err)}`);
      } finally {
        if (dumpFile) await rm(path.dirname(dumpFile), { recursive: true, force: true });
      }
    }
    deps.progress?.(`verify: ${m.media.length} media files`);
    problems.push(...(await checkMedia(settings.dir, m, key)));
    const durationMs = Math.round(performance.now() - started);
    const ok = problems.length === 0;
    await listBackups(deps); // makes sure the row exists (a backup from before a restore)
    await deps.db.withSystem((tx) =>
      tx.execute(sql`update backups set verified_at = ${deps.clock.now()}, verify_status = ${ok ? 'passed' : 'failed'},
        verify_duration_ms = ${durationMs}, verify_error = ${ok ? null : problems.join('; ').slice(0, 4000)},
        status = case when ${ok} then status else 'failed' end,
        error = case when ${ok} then error else 'verification failed' end
        where id = ${id}`),
    );
    return { id, ok, problems, durationMs };
  } finally {
    s3?.close();
  }
}

/** The connection string of a PostgreSQL driver (when the config has none: a Database built by hand). */
function driverUrl(driver: unknown): string | undefined {
  return (driver as { pool?: { options?: { connectionString?: string } } }).pool?.options?.connectionString;
}

async function scratchStats(m: Manifest, settings: BackupSettings, dumpFile: string, db?: Database): Promise<Record<string, TableStats>> {
  if (m.engine === 'postgres') {
    settings = { ...settings, databaseUrl: settings.databaseUrl ?? (db ? driverUrl(db.driver) : undefined) };
    if (!settings.databaseUrl) throw new BackupError('verifying a PostgreSQL backup needs DATABASE_URL (a server to create the scratch database on)');
    return scratchStatsPostgres(settings.databaseUrl, dumpFile);
  }
  return pgliteStats(new Blob([await readFile(dumpFile)]));
}

// ---------------------------------------------------------------------------------------------
// Restore

export interface RestoreTarget {
  settings: BackupSettings;
  storage: Storage;
  clock: Clock;
  progress?: ((message: string) => void) | undefined;
}

export async function restoreBackup(target: RestoreTarget, wanted: string, opts: { force?: boolean } = {}): Promise<Manifest> {
  const { settings, storage, progress } = target;
  const s3 = settings.s3 ? createBackupS3(settings.s3) : undefined;
  const embedded = !settings.databaseUrl;
  // Embedded: never a second writer. Throws DataDirLockedError while a server holds DATA_DIR.
  const dataLock = embedded ? lockDataDir(settings.dataDir) : undefined;
  let work: string | undefined;
  try {
    const id = await resolveId(settings, wanted, s3);
    const m = await ensureLocal(settings, id, s3, progress);
    if (embedded !== (m.engine === 'pglite')) {
      throw new BackupError(`backup ${id} is a ${m.engine} backup; this deployment is ${embedded ? 'embedded (PGlite)' : 'PostgreSQL'}`);
    }
    const key = requireKey(settings, m);
    progress?.('restore: checking files');
    const fileProblems = await checkFiles(settings.dir, m);
    if (fileProblems.length) throw new BackupError(`backup ${id} is damaged: ${fileProblems.join('; ')}`);

    progress?.('restore: checking the target');
    const dbEmpty = embedded ? await pgliteDirIsEmpty(settings.dataDir) : await postgresIsEmpty(settings.databaseUrl!);
    let objects = 0;
    for await (const _ of storage.list()) {
      void _;
      objects++;
      break;
    }
    if ((!dbEmpty || objects > 0) && !opts.force) {
      throw new BackupError(`the target is not empty (${dbEmpty ? '' : 'database has users'}${!dbEmpty && objects ? ', ' : ''}${objects ? 'media store has objects' : ''}): use --force to replace it`);
    }

    progress?.('restore: decrypting and decompressing the dump');
    const dumpFile = await plainDump(settings.dir, m, key);
    work = path.dirname(dumpFile);
    progress?.('restore: database');
    if (embedded) {
      const dbDir = embeddedDbDir(settings.dataDir);
      if (await exists(dbDir)) {
        // Timestamp plus a random suffix: two restores in one clock tick must not collide.
        const aside = `${dbDir}.before-restore-${target.clock.now().toISOString().replace(/[-:.]/g, '')}-${randomBytes(2).toString('hex')}`;
        await rename(dbDir, aside);
        progress?.(`restore: previous database kept at ${aside}`);
      }
      const driver = await openDriver({ pgliteDir: dbDir, pgliteLoad: new Blob([await readFile(dumpFile)]) });
      await driver.close();
    } else {
      if (!dbEmpty) await wipePostgres(settings.databaseUrl!);
      await restorePostgres(settings.databaseUrl!, dumpFile);
    }

    progress?.(`restore: media (${m.media.length} files)`);
    const wantedKeys = new Set(m.media.map((e) => e.key));
    if (objects > 0) {
      for await (const obj of storage.list()) if (!wantedKeys.has(obj.key)) await storage.delete(obj.key);
    }
    let done = 0;
    for (const entry of m.media) {
      const file = blobPath(settings.dir, entry.sha256, m.encrypted);
      if (!(await exists(file))) throw new BackupError(`backup ${id} is damaged: media blob ${entry.sha256} missing`);
      await storage.put(entry.key, await readStored(file, { gzip: false, key }), { contentType: contentTypeFor(entry.key), size: entry.size });
      if (++done % 100 === 0) progress?.(`restore: media ${done}/${m.media.length}`);
    }

    // The restored table is the past: record every local backup (this one included) as it is now.
    const driver = await openDriver(embedded ? { pgliteDir: embeddedDbDir(settings.dataDir) } : { databaseUrl: settings.databaseUrl, poolMax: 2 });
    try {
      await listBackups({ db: new Database(driver), settings, clock: target.clock });
    } finally {
      await driver.close();
    }
    progress?.(`restore: done (${id})`);
    return m;
  } finally {
    if (work) await rm(work, { recursive: true, force: true });
    dataLock?.release();
    s3?.close();
  }
}

async function pgliteDirIsEmpty(dataDir: string): Promise<boolean> {
  const dbDir = embeddedDbDir(dataDir);
  if (!(await exists(path.join(dbDir, 'PG_VERSION')))) return true;
  const driver = await openDriver({ pgliteDir: dbDir });
  try {
    const t = await driver.run(`select to_regclass('public.users') is not null as has`);
    if (!t.rows[0]!.has) return true;
    const n = await driver.run('select exists (select 1 from public.users) as any');
    return !n.rows[0]!.any;
  } finally {
    await driver.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Retention

export interface PruneResult {
  deleted: string[];
  kept: number;
  blobsDeleted: number;
  reason?: string;
}

export async function pruneBackups(deps: BackupDeps): Promise<PruneResult> {
  const { dir, retentionDays } = deps.settings;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = lockBackupDir(dir);
  const s3 = deps.settings.s3 ? createBackupS3(deps.settings.s3) : undefined;
  try {
    const entries = (await listBackups(deps)).filter((e) => e.status !== 'running');
    const newest = entries[0];
    if (!newest) return { deleted: [], kept: 0, blobsDeleted: 0 };
    if (newest.status === 'failed') return { deleted: [], kept: entries.length, blobsDeleted: 0, reason: `newest backup ${newest.id} failed: nothing pruned` };
    const keepVerified = entries.find((e) => e.status === 'completed' && e.verify_status === 'passed');
    const cutoff = deps.clock.now().getTime() - retentionDays * DAY;
    const doomed = entries.filter((e) => e !== keepVerified && e !== newest && new Date(e.created_at).getTime() < cutoff);
    for (const e of doomed) {
      await rm(path.join(dir, e.id), { recursive: true, force: true });
      if (s3) await s3.deleteBackup(e.id);
      await deps.db.withSystem((tx) => tx.execute(sql`delete from backups where id = ${e.id}`));
    }
    // Blobs no remaining manifest references.
    const referenced = new Set<string>();
    for (const id of await localIds(dir)) {
      const m = await readManifest(dir, id);
      for (const e of m?.media ?? []) referenced.add(path.basename(blobPath(dir, e.sha256, m!.encrypted)));
    }
    let blobsDeleted = 0;
    const mediaRoot = path.join(dir, 'media');
    for (const sub of await readdir(mediaRoot).catch(() => [] as string[])) {
      if (sub.startsWith('.')) continue;
      for (const name of await readdir(path.join(mediaRoot, sub)).catch(() => [] as string[])) {
        if (referenced.has(name)) continue;
        await rm(path.join(mediaRoot, sub, name), { force: true });
        if (s3) await s3.deleteBlob(`${sub}/${name}`);
        blobsDeleted++;
      }
    }
    return { deleted: doomed.map((e) => e.id), kept: entries.length - doomed.length, blobsDeleted };
  } finally {
    s3?.close();
    lock.release();
  }
}

export async function backupDirSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}
