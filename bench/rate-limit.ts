// What the rate limiter costs (docs/PERFORMANCE.md): req/s of authenticated routes with the limiter
// off, on with the memory store, and on with Redis, over real HTTP on loopback, in one run.
//
//   npm run bench:rate-limit                       (Redis at BENCH_REDIS_URL, default redis://127.0.0.1:6379)
//   BENCH_SECONDS=4 BENCH_ROUNDS=7 BENCH_CONNECTIONS=10 npm run bench:rate-limit   (the defaults)
//
// Each variant is its own server process (one core for the server, one for autocannon on a 2-core
// machine); rounds interleave the variants so a noisy neighbour hurts them alike, and the median
// round counts (on/off: the median of each round's ratio). Every request comes from 127.0.0.1, so the limits are raised far out of reach: what
// is measured is the limiter's work on an admitted request (classify, key, count, headers).
// Exits non-zero if the memory store keeps less than 90 % of the limiter-off throughput.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDriver } from '../src/db/client.js';
import { Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { loadKeySet, signAccessToken } from '../src/plugins/auth-keys.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MIN_MEMORY_RATIO = 0.9;

type Variant = 'off' | 'memory' | 'redis';
const VARIANTS: Variant[] = ['off', 'memory', 'redis'];
const ROUTES = [
  { path: '/api/v1/auth/me', what: 'GET /api/v1/auth/me (JWT + profile query; global and auth buckets)' },
  { path: '/bench/me', what: 'GET /bench/me (JWT only, no database; global bucket)' },
];

function variantEnv(variant: Variant): Record<string, string> {
  const high = { RATE_LIMIT_GLOBAL_MAX: '1000000000', RATE_LIMIT_AUTH_MAX: '1000000000' };
  if (variant === 'off') return { RATE_LIMIT_ENABLED: 'false' };
  if (variant === 'memory') return { RATE_LIMIT_ENABLED: 'true', ...high };
  return { RATE_LIMIT_ENABLED: 'true', ...high, REDIS_URL, RATE_LIMIT_KEY_PREFIX: `dz-bench:${randomUUID()}` };
}

/** Child mode: one server on in-memory PGlite with one user; prints {port, token} and serves until killed. */
async function serve(variant: Variant) {
  const config = loadConfig({
    APP_ENV: 'test',
    LOG_LEVEL: 'silent', // no per-request log line: the limiter's share of the work looks as large as it can
    JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-0123456789',
    DATA_DIR: '/tmp/darezone-bench-unused',
    JOBS_ENABLED: 'false',
    ...variantEnv(variant),
  });
  const db = new Database(await openDriver({ pgliteDir: null }));
  await migrate(db.driver);
  const id = randomUUID();
  await db.withSystem(async (tx) => {
    await tx.execute(sql`insert into users (id, email, password_hash) values (${id}, ${`bench-${id}@example.test`}, 'not-a-real-hash')`);
    await tx.execute(sql`insert into user_profiles (user_id, display_name) values (${id}, 'Bench')`);
  });
  const keys = loadKeySet(config);
  const app = await buildApp({
    config,
    db,
    keys,
    extend: (scope) => {
      scope.get('/bench/me', async (request) => ({ id: request.user.id }));
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const token = await signAccessToken(keys, { sub: id, role: 'user', sid: randomUUID() }, 3600, new Date());
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0, token, store: app.rateLimit.store })}\n`);
}

interface Server {
  variant: Variant;
  child: ChildProcess;
  port: number;
  token: string;
  store: string;
}

async function start(variant: Variant): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', variant], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
  const info = JSON.parse(first) as { port: number; token: string; store: string };
  return { variant, child, ...info };
}

/** The server process's user+system CPU time in ms (Linux /proc; 10 ms ticks), or NaN elsewhere. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14, 15 of the full line)
  } catch {
    return NaN;
  }
}

async function measure(server: Server, path: string, seconds: number) {
  const cpuBefore = cpuMs(server.child.pid!);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${path}`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${server.token}` },
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${server.variant} ${path}: ${bad} failed requests (non-2xx ${result.non2xx}, errors ${result.errors})`);
  // CPU per request is far less sensitive than req/s to other processes competing for the cores.
  const cpuUsPerRequest = ((cpuMs(server.child.pid!) - cpuBefore) * 1000) / result.requests.total;
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpuUs: cpuUsPerRequest };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The limiter's own cost, in this process: µs per decision (app.rateLimit.check), 1000 client IPs. */
async function decisionCost(variant: 'memory' | 'redis', n: number) {
  const config = loadConfig({ APP_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-0123456789', DATA_DIR: '/tmp/darezone-bench-unused', JOBS_ENABLED: 'false', ...variantEnv(variant) });
  const db = new Database(await openDriver({ pgliteDir: null }));
  const app = await buildApp({ config, db });
  try {
    const requests = Array.from({ length: 1000 }, (_, i) => ({ ip: `10.${(i >> 8) & 255}.${i & 255}.1`, method: 'GET', url: '/api/v1/auth/me', routeUrl: '/api/v1/auth/me' }));
    for (let i = 0; i < 2000; i++) await app.rateLimit.check(requests[i % 1000]!); // warm up
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await app.rateLimit.check(requests[i % 1000]!);
    return Number(process.hrtime.bigint() - started) / 1000 / n;
  } finally {
    await app.close();
    await db.close();
  }
}

async function main() {
  const servers: Server[] = [];
  try {
    for (const v of VARIANTS) servers.push(await start(v));
    console.log(`rate-limit overhead: ${ROUNDS} rounds x ${SECONDS} s per variant and route, ${CONNECTIONS} connections, node ${process.version}`);
    for (const s of servers) console.log(`  ${s.variant}: store=${s.store}, port ${s.port}`);
    const rows: string[] = [];
    let memoryRatio = Infinity;
    for (const route of ROUTES) {
      for (const s of servers) await measure(s, route.path, 1); // warm up (JIT, connections)
      const runs = new Map<Variant, Awaited<ReturnType<typeof measure>>[]>(VARIANTS.map((v) => [v, []]));
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate the order each round so no variant always runs first or last.
        const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
        for (const s of order) runs.get(s.variant)!.push(await measure(s, route.path, SECONDS));
      }
      const offCpu = median(runs.get('off')!.map((r) => r.cpuUs));
      console.log(`\n${route.what}`);
      for (const v of VARIANTS) {
        const r = runs.get(v)!;
        const rps = median(r.map((x) => x.rps));
        // Each round's ratio pairs measurements taken back to back, so slow drifts in the machine's
        // load cancel out; the median round is the figure.
        const ratio = median(r.map((x, i) => x.rps / runs.get('off')![i]!.rps));
        const cpu = median(r.map((x) => x.cpuUs));
        if (v === 'memory') memoryRatio = Math.min(memoryRatio, ratio);
        const p50 = median(r.map((x) => x.p50));
        const p99 = median(r.map((x) => x.p99));
        const rounds = r.map((x) => Math.round(x.rps)).join(' / ');
        console.log(`  ${v.padEnd(6)} ${String(Math.round(rps)).padStart(7)} req/s  on/off ${ratio.toFixed(3)}  server CPU ${cpu.toFixed(0)} µs/req (off/on ${(offCpu / cpu).toFixed(3)})  p50 ${p50} ms  p99 ${p99} ms  rounds ${rounds}`);
        rows.push(`| ${route.path} | ${v} | ${Math.round(rps)} | ${ratio.toFixed(3)} | ${cpu.toFixed(0)} | ${(offCpu / cpu).toFixed(3)} | ${p50} | ${p99} | ${rounds} |`);
      }
    }
    console.log('\n| route | limiter | req/s (median) | on/off | server CPU µs/req | CPU off/on | p50 ms | p99 ms | rounds req/s |\n|---|---|---|---|---|---|---|---|---|');
    rows.forEach((r) => console.log(r));
    const memoryUs = await decisionCost('memory', 100_000);
    const redisUs = await decisionCost('redis', 10_000);
    console.log(`\none decision (global + auth buckets), awaited one at a time: memory ${memoryUs.toFixed(1)} µs, Redis ${redisUs.toFixed(1)} µs (a loopback round trip)`);
    if (memoryRatio < MIN_MEMORY_RATIO) {
      console.error(`\nFAIL: memory store keeps ${memoryRatio.toFixed(3)} of the limiter-off throughput (< ${MIN_MEMORY_RATIO})`);
      process.exitCode = 1;
    } else {
      console.log(`\nOK: memory store on/off >= ${MIN_MEMORY_RATIO} on every route (lowest ${memoryRatio.toFixed(3)})`);
    }
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
  }
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3] as Variant);
} else {
  await main();
}
