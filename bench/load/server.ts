// The server under test: a fresh database (embedded PGlite in the run's DATA_DIR, or a new
// PostgreSQL database next to BENCH_DATABASE_URL's), migrated and seeded from this process, then
// `darezone serve` in a process of its own with production settings: APP_ENV=production, rate
// limiting on with its defaults, jobs and alerts on, TRUST_PROXY=127.0.0.1 (the virtual users'
// X-Forwarded-For is believed), ALLOWED_HOSTS, METRICS_TOKEN. Its log goes to a file in the run
// directory (a pipe nobody reads would block it).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { createPasswordHasher } from '../../src/modules/auth/passwords.js';
import { BENCH_HOST } from './client.js';
import type { Options } from './options.js';
import { seed } from './seed.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PASSWORD = 'load-test-password-7f3a9c';

/** A free loopback port (the server is told it; a race with another process is possible but rare). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** PostgreSQL: a database of its own for this run; returns its URL and how to drop it. */
async function createDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `darezone_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface Server {
  port: number;
  pid: number;
  engine: 'pglite' | 'postgres';
  metricsToken: string;
  logFile: string;
  seeded: Awaited<ReturnType<typeof seed>>;
  seedSeconds: number;
  /** PostgreSQL only: sequential vs index scans per table during the run (pg_stat_user_tables). */
  tableScans(): Promise<string | null>;
  /** PostgreSQL only: zero those counters (when the measured phase begins). */
  resetTableStats(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServer(options: Options, runDir: string): Promise<Server> {
  const database = options.databaseUrl ? await createDatabase(options.databaseUrl) : undefined;
  const metricsToken = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    APP_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    DATA_DIR: path.join(runDir, 'data'),
    LOG_LEVEL: options.logLevel,
    TRUST_PROXY: '127.0.0.1',
    ALLOWED_HOSTS: BENCH_HOST,
    JWT_SECRET: randomBytes(32).toString('hex'),
    MEDIA_SIGNING_KEY: randomBytes(32).toString('hex'),
    METRICS_TOKEN: metricsToken,
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
  const config = loadConfig(env);
  const started = performance.now();
  const opened = await openDatabase(config, { migrate: true });
  let seeded: Awaited<ReturnType<typeof seed>>;
  try {
    const hasher = await createPasswordHasher(config);
    seeded = await seed(opened.db, { users: options.users, groupSize: options.groupSize, historyDays: options.historyDays, passwordHash: await hasher.hash(PASSWORD) });
  } finally {
    await opened.close();
  }
  const seedSeconds = (performance.now() - started) / 1000;

  const logFile = path.join(runDir, 'server.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/cli/index.ts'), 'serve'], {
    cwd: runDir, // no stray .env is read
    env,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = Number(env.PORT);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await database?.drop();
      throw new Error(`the server did not become ready (exit ${child.exitCode}); its log: ${logFile}\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    pid: child.pid!,
    engine: database ? 'postgres' : 'pglite',
    metricsToken,
    logFile,
    seeded,
    seedSeconds,
    async resetTableStats() {
      if (!database) return;
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      await c.query('select pg_stat_reset()').finally(() => c.end());
    },
    async tableScans() {
      if (!database) return null;
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      try {
        const { rows } = await c.query<{ relname: string; seq_scan: string; seq_tup_read: string; idx_scan: string | null; n_live_tup: string }>(
          `select relname, seq_scan, seq_tup_read, idx_scan, n_live_tup from pg_stat_user_tables
            where seq_scan > 0 or idx_scan > 0 order by seq_tup_read desc limit 12`,
        );
        return ['| table | rows | seq scans | rows read by seq scans | index scans |', '|---|---|---|---|---|']
          .concat(rows.map((r) => `| ${r.relname} | ${r.n_live_tup} | ${r.seq_scan} | ${r.seq_tup_read} | ${r.idx_scan ?? 0} |`))
          .join('\n');
      } finally {
        await c.end();
      }
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
      await database?.drop();
    },
  };
}

export interface ServerSample {
  /** Seconds since the measured phase began. */
  t: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay p99 and max since the previous scrape (prom-client resets them). */
  lagP99Ms: number;
  lagMaxMs: number;
}

function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) * 1024 : Number.NaN;
}

/** GET /metrics as Prometheus would, through the production Host and https checks (fetch cannot set Host). */
function scrape(server: Server): Promise<string> {
  const headers = { authorization: `Bearer ${server.metricsToken}`, host: BENCH_HOST, 'x-forwarded-proto': 'https' };
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: server.port, path: '/metrics', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`/metrics: HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** RSS from /proc (the kernel's figure), heap and event-loop lag from the server's /metrics. */
export async function sampleServer(server: Server, t: number): Promise<ServerSample> {
  const text = await scrape(server);
  const metric = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : Number.NaN;
  };
  return {
    t,
    rssBytes: rssOf(server.pid),
    heapUsedBytes: metric('nodejs_heap_size_used_bytes'),
    lagP99Ms: metric('nodejs_eventloop_lag_p99_seconds') * 1000,
    lagMaxMs: metric('nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

/** Lines the server logged at error level or above during the run (pino: level >= 50). */
export function serverErrors(logFile: string): string[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => /"level":(5\d|60)/.test(line));
}
