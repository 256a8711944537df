// PostgreSQL: pg_dump / pg_restore (custom format), a snapshot shared with the manifest's counts, and
// scratch databases for the restore drill.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import type { Driver } from '../db/client.js';
import { MIGRATIONS_DIR } from '../db/migrate.js';
import { tableStats, type TableStats } from './stats.js';

export class BackupToolError extends Error {
  override name = 'BackupToolError';
}

/** Connection settings for the pg tools, with the password in the environment rather than argv. */
function toolConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env };
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function toolVersion(tool: string): Promise<number> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(tool, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new BackupToolError(err.code === 'ENOENT' ? `${tool} not found: install the PostgreSQL client tools (same major version as the server or newer)` : `${tool}: ${err.message}`)),
    );
    child.once('exit', () => resolve(text));
  });
  const m = /(\d+)(?:\.\d+)?/.exec(out);
  if (!m) throw new BackupToolError(`cannot read the version of ${tool}: ${out.trim()}`);
  return Number(m[1]);
}

export async function checkTools(driver: Driver): Promise<void> {
  const serverNum = Number((await driver.run(`select current_setting('server_version_num') as v`)).rows[0]!.v);
  const serverMajor = Math.floor(serverNum / 10000);
  for (const tool of ['pg_dump', 'pg_restore']) {
    const major = await toolVersion(tool);
    if (major < serverMajor) throw new BackupToolError(`${tool} ${major} is older than the PostgreSQL server (${serverMajor}): install client tools ${serverMajor} or newer`);
  }
}

function runTool(tool: string, args: string[], env: NodeJS.ProcessEnv, stdout?: Writable, stdin?: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: [stdin ? 'pipe' : 'ignore', stdout ? 'pipe' : 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 4000) err += d.toString();
    });
    const piping: Promise<unknown>[] = [];
    if (stdout) piping.push(pipeline(child.stdout!, stdout));
    if (stdin) piping.push(pipeline(stdin, child.stdin!).catch(() => undefined));
    child.once('error', (e) => reject(new BackupToolError(`${tool}: ${e.message}`)));
    child.once('exit', (code, signal) => {
      Promise.all(piping)
        .then(() => {
          if (code === 0) resolve();
          else reject(new BackupToolError(`${tool} failed (${code ?? signal}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
        })
        .catch(reject);
    });
  });
}

/**
 * pg_dump of the whole database into `out` (uncompressed custom format; the caller gzips), from
 * one exported snapshot, while the same snapshot's per-table stats are computed.
 */
export async function dumpPostgres(driver: Driver, url: string, out: Writable): Promise<Record<string, TableStats>> {
  await checkTools(driver);
  const { dbname, env } = toolConnection(url);
  return driver.transaction(async (tx) => {
    await tx.exec('set transaction isolation level repeatable read, read only');
    const snapshot = String((await tx.run('select pg_export_snapshot() as s')).rows[0]!.s);
    const who = (await tx.run(`select rolsuper or rolbypassrls as bypass from pg_roles where rolname = current_user`)).rows[0];
    const args = ['--format=custom', '--compress=0', `--snapshot=${snapshot}`, `--dbname=${dbname}`];
    // A non-superuser owner under FORCE ROW LEVEL SECURITY reads every row through darezone_jobs's
    // permissive policies; pg_dump refuses to dump RLS tables unless told so.
    if (!who?.bypass) args.push('--enable-row-security');
    const dumping = runTool('pg_dump', args, env, out);
    const stats = await tableStats((text) => tx.run(text)).catch(async (err: unknown) => {
      await dumping.catch(() => undefined);
      throw err;
    });
    await dumping;
    return stats;
  });
}

/** The role set-up of migrations/0001 (roles are cluster-wide; a new cluster may lack them). */
function roleSetupSql(): string {
  const text = readFileSync(`${MIGRATIONS_DIR}/0001_roles.sql`, 'utf8');
  const cut = text.indexOf('create schema if not exists app');
  return cut > 0 ? text.slice(0, cut) : text;
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, types: { getTypeParser: (() => (v: string) => v) as never } });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Restores a plain custom-format dump file into the database at `url` (all or nothing). */
export async function restorePostgres(url: string, dumpFile: string): Promise<void> {
  await withClient(url, (c) => c.query(roleSetupSql()));
  const { dbname, env } = toolConnection(url);
  // Owners are kept (restore as a superuser or the original owner): the SECURITY DEFINER helpers
  // must stay owned by darezone_jobs for the row-level-security policies to work.
  await runTool('pg_restore', ['--exit-on-error', '--single-transaction', `--dbname=${dbname}`], env, undefined, createReadStream(dumpFile));
}

export async function postgresIsEmpty(url: string): Promise<boolean> {
  return withClient(url, async (c) => {
    const t = await c.query<{ has: string }>(`select (to_regclass('public.users') is not null)::text as has`);
    if (t.rows[0]?.has !== 'true') return true;
    const n = await c.query<{ any: string }>('select exists (select 1 from public.users)::text as any');
    return n.rows[0]?.any !== 'true';
  });
}

export async function wipePostgres(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('drop schema if exists app cascade');
    await c.query('drop schema if exists public cascade');
    await c.query('create schema public');
  });
}

/** Restore drill: a scratch database on the same server; the stats of what was restored. */
export async function scratchStatsPostgres(url: string, dumpFile: string): Promise<Record<string, TableStats>> {
  const name = `dz_verify_${randomBytes(6).toString('hex')}`;
  await withClient(url, (c) => c.query(`create database ${name}`));
  try {
    const scratch = withDatabase(url, name);
    await restorePostgres(scratch, dumpFile);
    return await withClient(scratch, (c) => tableStats((text) => c.query(text)));
  } finally {
    await withClient(url, (c) => c.query(`drop database if exists ${name} with (force)`)).catch(() => undefined);
  }
}
