// Settings of `npm run bench:load` and `npm run bench:soak`, all from the environment so a CI job or
// an operator can change them without editing the script. Defaults are SPEC §5.6's target.

export type Mode = 'load' | 'soak';

export interface Options {
  mode: Mode;
  users: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Think time between two screens of one virtual user, uniform in [min, max]. */
  thinkMinMs: number;
  thinkMaxMs: number;
  /** Members per group: each group shares challenges (see seed.ts). */
  groupSize: number;
  /** Days of check-in history before today. */
  historyDays: number;
  maxP95Ms: number;
  maxErrors: number;
  /** Soak: sampling interval and the RSS slope (second half of the run) that counts as growth. */
  sampleSeconds: number;
  maxRssSlopeMiBPerMin: number;
  /** PostgreSQL admin URL; unset = embedded PGlite. A fresh database is created and dropped. */
  databaseUrl: string | undefined;
  logLevel: string;
  /** Keep the run's directory (server log, PGlite data) instead of deleting it. */
  keep: boolean;
}

function num(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${raw}: expected a number >= ${min}`);
  return value;
}

export function readOptions(mode: Mode): Options {
  const options: Options = {
    mode,
    users: num('BENCH_USERS', 100, 1),
    durationSeconds: num('BENCH_DURATION_SECONDS', mode === 'soak' ? 600 : 60, 1),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', mode === 'soak' ? 30 : 15),
    thinkMinMs: num('BENCH_THINK_MIN_MS', 1000),
    thinkMaxMs: num('BENCH_THINK_MAX_MS', 3000),
    groupSize: num('BENCH_GROUP_SIZE', 5, 2),
    historyDays: num('BENCH_HISTORY_DAYS', 21, 1),
    maxP95Ms: num('BENCH_MAX_P95_MS', 200, 1),
    maxErrors: num('BENCH_MAX_ERRORS', 0),
    sampleSeconds: num('BENCH_SAMPLE_SECONDS', 10, 1),
    maxRssSlopeMiBPerMin: num('BENCH_MAX_RSS_SLOPE_MIB_PER_MIN', 1),
    databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
    logLevel: process.env.BENCH_LOG_LEVEL || 'info',
    keep: process.env.BENCH_KEEP === '1',
  };
  if (options.thinkMaxMs < options.thinkMinMs) throw new Error('BENCH_THINK_MAX_MS must be >= BENCH_THINK_MIN_MS');
  return options;
}
