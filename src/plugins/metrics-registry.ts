// The Prometheus metrics (§5.3), on a Registry of their own per app: no prom-client global state, so
// several apps in one process (tests, two instances) never share or double-register a metric.
// Every label has a bounded set of values: routes are templates (`/api/v1/challenges/:id`, unmatched
// requests are `not_found`), methods are the HTTP verbs or `other`, jobs and buckets are fixed
// lists, alert rules are a fixed list (plus one per job).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Request latency buckets (seconds). 0.2 is a boundary so the p95 < 200 ms target (§5.6) and the
// latency alert read exactly from the histogram.
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export const methodLabel = (method: string) => (METHODS.has(method) ? method : 'other');

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const metric = { registers: [registry] };
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer a request, by method, route template and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: HTTP_BUCKETS,
      ...metric,
    }),
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'Requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'] as const,
      ...metric,
    }),
    rateLimitRejections: new Counter({
      name: 'darezone_rate_limit_rejections_total',
      help: 'Requests answered 429 by the rate limiter, by bucket.',
      labelNames: ['bucket'] as const,
      ...metric,
    }),
    rateLimitFallbacks: new Counter({
      name: 'darezone_rate_limit_store_fallbacks_total',
      help: 'Rate-limit decisions the shared store (Redis) could not make in time, by bucket.',
      labelNames: ['bucket'] as const,
      ...metric,
    }),
    loginFailures: new Counter({
      name: 'darezone_login_failures_total',
      help: 'Logins refused for a wrong email or password (401).',
      ...metric,
    }),
    loginLocked: new Counter({
      name: 'darezone_login_lockouts_total',
      help: 'Login or password-change attempts refused because the email is locked after repeated failures (429 ACCOUNT_LOCKED).',
      ...metric,
    }),
    dbPoolConnections: new Gauge({
      name: 'darezone_db_pool_connections',
      help: 'Database connections of this instance by state (in_use, idle).',
      labelNames: ['state'] as const,
      ...metric,
    }),
    dbPoolWaiting: new Gauge({
      name: 'darezone_db_pool_waiting_requests',
      help: 'Queries waiting for a free database connection.',
      ...metric,
    }),
    dbPoolMax: new Gauge({ name: 'darezone_db_pool_max_connections', help: 'Configured pool size (DATABASE_POOL_MAX; 1 for embedded).', ...metric }),
    jobRuns: new Counter({
      name: 'darezone_job_runs_total',
      help: 'Finished job runs in this instance, by job and status (success, failed, timed_out, skipped).',
      labelNames: ['job', 'status'] as const,
      ...metric,
    }),
    jobDuration: new Histogram({
      name: 'darezone_job_duration_seconds',
      help: 'Duration of finished job runs, by job and status.',
      labelNames: ['job', 'status'] as const,
      buckets: JOB_BUCKETS,
      ...metric,
    }),
    backupLastSuccess: new Gauge({
      name: 'darezone_backup_last_success_timestamp_seconds',
      help: 'Unix time the newest completed backup finished (0 = none yet).',
      ...metric,
    }),
    backupLastVerified: new Gauge({
      name: 'darezone_backup_last_verified_timestamp_seconds',
      help: 'Unix time of the newest passed restore drill (0 = none yet).',
      ...metric,
    }),
    backupLastSize: new Gauge({ name: 'darezone_backup_last_size_bytes', help: 'Size of the newest completed backup (0 = none yet).', ...metric }),
    diskFree: new Gauge({
      name: 'darezone_disk_free_ratio',
      help: 'Free share (0-1) of the file system holding DATA_DIR, read at scrape time.',
      ...metric,
    }),
    alertsFiring: new Gauge({
      name: 'darezone_alerts_firing',
      help: 'Built-in alerts currently firing (shared by all instances), by rule and severity.',
      labelNames: ['rule', 'severity'] as const,
      ...metric,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
