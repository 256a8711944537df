// What a run prints: the settings, a per-route table (Markdown, pasted as is into
// docs/PERFORMANCE.md), the server's memory and event-loop lag over time, and the verdict.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import type { Options } from './options.js';
import type { ServerSample } from './server.js';
import { robustSlope, slope, type RouteSummary } from './stats.js';

const MiB = 1024 * 1024;
const ms = (v: number) => (Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(1) : v.toFixed(0));
const mib = (v: number) => (v / MiB).toFixed(1);

export function machine(): string {
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} vCPUs (${model.trim()}), ${mib(os.totalmem())} MiB RAM, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(2)}`;
}

export function routeTable(routes: RouteSummary[], overall: RouteSummary, seconds: number): string {
  const row = (r: RouteSummary) => `| ${r.route === 'all' ? '**all**' : `\`${r.route}\``} | ${r.count} | ${r.errors} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${(r.count / seconds).toFixed(1)} |`;
  return ['| route | requests | errors | p50 ms | p95 ms | p99 ms | max ms | req/s |', '|---|---|---|---|---|---|---|---|', ...routes.map(row), row(overall)].join('\n');
}

export interface MemoryVerdict {
  /** Theil–Sen slope of server RSS (the verdict) and, for comparison, the least-squares one. */
  rssSlope: number;
  rssSlopeLeastSquares: number;
  heapSlope: number;
  points: number;
}

/** Slopes in MiB per minute over the second half of the samples (the first half is the ramp-up). */
export function memoryTrend(samples: ServerSample[]): MemoryVerdict {
  const half = samples.slice(Math.floor(samples.length / 2));
  const rss = half.map((s) => ({ x: s.t / 60, y: s.rssBytes / MiB }));
  return {
    rssSlope: robustSlope(rss),
    rssSlopeLeastSquares: slope(rss),
    heapSlope: robustSlope(half.map((s) => ({ x: s.t / 60, y: s.heapUsedBytes / MiB }))),
    points: half.length,
  };
}

export function samplesTable(samples: ServerSample[], windows: { count: number; p95: number }[], every: number): string {
  const lines = ['| t (s) | server RSS MiB | heap used MiB | event-loop lag p99 / max ms | requests | p95 ms |', '|---|---|---|---|---|---|'];
  samples.forEach((s, i) => {
    const w = windows[i];
    lines.push(`| ${s.t.toFixed(0)} | ${mib(s.rssBytes)} | ${mib(s.heapUsedBytes)} | ${ms(s.lagP99Ms)} / ${ms(s.lagMaxMs)} | ${w?.count ?? '–'} | ${w ? ms(w.p95) : '–'} |`);
  });
  // Long soaks: keep the table readable (every `every`-th row, plus the last).
  if (every > 1) return [lines[0], lines[1], ...lines.slice(2).filter((_, i, all) => i % every === 0 || i === all.length - 1)].join('\n');
  return lines.join('\n');
}

export function settings(o: Options, engine: string): string {
  return [
    `mode ${o.mode}; engine ${engine}; ${o.users} virtual users, each with its own account, token and X-Forwarded-For address;`,
    `warm-up ${o.warmupSeconds} s (users start spread over it, not measured), measured ${o.durationSeconds} s; think time ${o.thinkMinMs}–${o.thinkMaxMs} ms between screens;`,
    `server: APP_ENV=production, rate limits at their defaults (global 100/min, auth 10/min per IP), jobs and alerts on, LOG_LEVEL=${o.logLevel} to a file;`,
    `target: errors <= ${o.maxErrors}, overall p95 < ${o.maxP95Ms} ms${o.mode === 'soak' ? `, server RSS slope (Theil–Sen) over the second half < ${o.maxRssSlopeMiBPerMin} MiB/min` : ''}.`,
  ].join('\n');
}
