// Load and soak test (SPEC §5.6, docs/PERFORMANCE.md "Load test" and "Soak test"): N virtual users,
// each with its own account, access token and client IP, use the real server the way the mobile app
// does (bench/load/user.ts) against production settings (bench/load/server.ts), and the run reports
// latency per route template, errors, throughput, and the server's memory and event-loop lag.
//
//   npm run bench:load     100 users, 15 s warm-up, 60 s measured
//   npm run bench:soak     100 users, 30 s warm-up, 10 min measured; RSS sampled every 10 s
//
//   BENCH_USERS, BENCH_DURATION_SECONDS, BENCH_WARMUP_SECONDS, BENCH_THINK_MIN_MS / _MAX_MS,
//   BENCH_MAX_P95_MS (200), BENCH_MAX_ERRORS (0), BENCH_SAMPLE_SECONDS (10),
//   BENCH_MAX_RSS_SLOPE_MIB_PER_MIN (1, Theil–Sen slope of server RSS over the second half), BENCH_DATABASE_URL (PostgreSQL admin URL: a fresh database
//   is created for the run and dropped after; unset = embedded PGlite), BENCH_LOG_LEVEL (info),
//   BENCH_KEEP=1 (keep the run directory: server log, PGlite data).
//
// Exits non-zero when the target is missed: any error (429, 5xx, network error, unexpected status),
// overall p95 at or above the limit, or (soak) server RSS still growing over the second half.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from './load/client.js';
import { readOptions } from './load/options.js';
import { machine, memoryTrend, routeTable, samplesTable, settings } from './load/report.js';
import { PASSWORD, sampleServer, serverErrors, startServer, type ServerSample } from './load/server.js';
import { Recorder } from './load/stats.js';
import { VirtualUser } from './load/user.js';

const options = readOptions(process.argv.includes('--soak') ? 'soak' : 'load');
const runDir = mkdtempSync(path.join(os.tmpdir(), `darezone-bench-${options.mode}-`));
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

log(`${options.mode}: ${machine()}`);
const server = await startServer(options, runDir);
let stopped = false;
const shutdown = async () => {
  if (stopped) return;
  stopped = true;
  await server.stop();
  if (!options.keep) rmSync(runDir, { recursive: true, force: true });
};
process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));

let failed = false;
try {
  const { seeded } = server;
  log(`server pid ${server.pid} on 127.0.0.1:${server.port} (${server.engine}); seeded ${seeded.users.length} users, ${seeded.challenges} challenges, ${seeded.checkins} check-ins, ${seeded.notifications} notifications in ${server.seedSeconds.toFixed(1)} s`);

  const recorder = new Recorder();
  const client = new Client(server.port, recorder);
  const users = seeded.users.map((u) => new VirtualUser(client, u, PASSWORD, { min: options.thinkMinMs, max: options.thinkMaxMs }));
  // Log in (argon2: a few at a time, as sign-ins trickle in) and join the group's new challenge.
  await pool(users, 4, (u) => u.start());
  log(`${users.length} users logged in and joined their challenges`);

  let stop = false;
  const stagger = (options.warmupSeconds * 1000) / users.length;
  const running = users.map(async (u, i) => {
    await sleep(i * stagger);
    await u.run(() => stop);
  });
  await sleep(options.warmupSeconds * 1000);

  await server.resetTableStats();
  recorder.recording = true;
  const measureStart = performance.now();
  const elapsed = () => (performance.now() - measureStart) / 1000;
  const samples: ServerSample[] = [await sampleServer(server, 0)];
  const windows: { count: number; p95: number }[] = [{ count: 0, p95: Number.NaN }];
  log(`measuring for ${options.durationSeconds} s`);
  while (elapsed() < options.durationSeconds) {
    const nextAt = samples.length * options.sampleSeconds;
    await sleep(Math.max(0, Math.min(nextAt, options.durationSeconds) - elapsed()) * 1000);
    if (elapsed() >= nextAt - 0.05) {
      windows.push(recorder.takeWindow());
      samples.push(await sampleServer(server, elapsed()));
      const s = samples.at(-1)!;
      if (options.mode === 'soak') log(`t=${s.t.toFixed(0)} s: RSS ${(s.rssBytes / 2 ** 20).toFixed(1)} MiB, heap ${(s.heapUsedBytes / 2 ** 20).toFixed(1)} MiB, p95 ${windows.at(-1)!.p95.toFixed(0)} ms, errors so far ${recorder.errors}`);
    }
  }
  recorder.recording = false;
  const seconds = elapsed();
  stop = true;
  await Promise.all(running);
  client.close();

  const { routes, overall } = recorder.summary();
  const trend = memoryTrend(samples);
  const errorLines = serverErrors(server.logFile);
  const screens = users.reduce((s, u) => s + u.screens, 0);
  console.log(`\n## ${options.mode === 'soak' ? 'Soak' : 'Load'} test — ${new Date().toISOString()}\n`);
  console.log(`machine: ${machine()}`);
  console.log(`${settings(options, server.engine)}\n`);
  console.log(routeTable(routes, overall, seconds));
  console.log(`\n${screens} screens; expected non-2xx answers (not errors): ${[...recorder.expected].map(([r, n]) => `${r} ${n}×`).join(', ') || 'none'}`);
  if (recorder.errorKinds.size > 0) console.log(`errors: ${[...recorder.errorKinds].map(([k, n]) => `${k} ×${n}`).join('; ')}`);
  console.log(`server log: ${errorLines.length} line(s) at error level${errorLines.length ? `, first: ${errorLines[0]!.slice(0, 400)}` : ''}`);
  console.log(`\n${samplesTable(samples, windows, Math.ceil(samples.length / 40))}\n`);
  const scans = await server.tableScans();
  if (scans) console.log(`PostgreSQL table scans during the measured phase:\n\n${scans}\n`);
  console.log(
    `second half (${trend.points} samples): server RSS slope ${trend.rssSlope.toFixed(2)} MiB/min (Theil–Sen; least squares ${trend.rssSlopeLeastSquares.toFixed(2)}), heap used ${trend.heapSlope.toFixed(2)} MiB/min`,
  );

  const problems: string[] = [];
  if (overall.errors > options.maxErrors) problems.push(`${overall.errors} errors (allowed ${options.maxErrors})`);
  if (options.mode === 'load' && !(overall.p95 < options.maxP95Ms)) problems.push(`overall p95 ${overall.p95.toFixed(0)} ms >= ${options.maxP95Ms} ms`);
  if (options.mode === 'soak' && !(trend.rssSlope < options.maxRssSlopeMiBPerMin)) {
    problems.push(`server RSS grows ${trend.rssSlope.toFixed(2)} MiB/min over the second half (limit ${options.maxRssSlopeMiBPerMin})`);
  }
  if (problems.length > 0) {
    failed = true;
    console.error(`\nFAIL: ${problems.join('; ')}`);
  } else {
    console.log(`\nPASS: ${overall.errors} errors, overall p95 ${overall.p95.toFixed(0)} ms${options.mode === 'soak' ? `, RSS slope ${trend.rssSlope.toFixed(2)} MiB/min` : ''}`);
  }
} catch (err) {
  failed = true;
  console.error(`bench:${options.mode} failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  if (options.keep) log(`run directory kept: ${runDir}`);
  await shutdown();
}
process.exit(failed ? 1 : 0);
