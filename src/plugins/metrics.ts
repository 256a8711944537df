// GET /metrics (§5.3): Prometheus text from this app's own Registry (plugins/metrics-registry.ts).
//
// Access: with METRICS_TOKEN set, `Authorization: Bearer <METRICS_TOKEN>` is required (401
// problem+json otherwise). Unset, /metrics does not exist in production (404: nothing is exposed by
// accident) and answers only loopback clients in development and test (a developer's curl, a
// Prometheus on the same machine). The route is outside JWT authentication (`public`: a scrape
// token is not a user token) and exempt from rate limits (plugins/rate-limit-policy.ts).
//
// Sources: an onResponse hook (requests), an onError hook (login failures and lockouts, by error
// code: no coupling to the auth module), jobEvents (job runs), and at scrape time the rate limiter's
// counters, the pool's stats and two small queries (backups, firing alerts), time-bounded.
import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { sql } from 'drizzle-orm';
import { AppError } from '../errors.js';
import { freePercent } from '../alerts/rules.js';
import { jobEvents, type RunFinished } from '../jobs/runner.js';
import { sendProblem, toAppError } from './errors.js';
import { createMetrics, methodLabel, type Metrics } from './metrics-registry.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

const SCRAPE_QUERY_TIMEOUT_MS = 2000;
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function tokenMatches(given: string | undefined, expected: string): boolean {
  const match = /^Bearer (\S+)$/.exec(given ?? '');
  if (!match) return false;
  const a = Buffer.from(match[1]!);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface ScrapeRow {
  last_success: Date | null;
  last_verified: Date | null;
  last_size: number | null;
  firing: { rule: string; severity: string }[] | null;
}

const seconds = (d: Date | null) => (d ? d.getTime() / 1000 : 0);

export default fp(
  (app) => {
    const metrics = createMetrics();
    app.decorate('metrics', metrics);
    const { config } = app;

    app.addHook('onResponse', async (request, reply) => {
      const labels = { method: methodLabel(request.method), route: request.routeOptions.url ?? 'not_found', status: String(reply.statusCode) };
      metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
      metrics.httpRequests.inc(labels);
    });

    app.addHook('onError', async (_request, _reply, error) => {
      const code = toAppError(error)?.code;
      if (code === 'INVALID_CREDENTIALS') metrics.loginFailures.inc();
      else if (code === 'ACCOUNT_LOCKED') metrics.loginLocked.inc();
    });

    const onJob = (run: RunFinished) => {
      metrics.jobRuns.inc({ job: run.job, status: run.status });
      metrics.jobDuration.observe({ job: run.job, status: run.status }, run.durationMs / 1000);
    };
    jobEvents.on('finished', onJob);
    app.addHook('onClose', async () => void jobEvents.off('finished', onJob));

    async function refresh(): Promise<void> {
      const { stats } = app.rateLimit;
      metrics.rateLimitRejections.reset();
      metrics.rateLimitFallbacks.reset();
      for (const [bucket, n] of Object.entries(stats.rejected)) metrics.rateLimitRejections.inc({ bucket }, n);
      for (const [bucket, n] of Object.entries(stats.storeFallbacks)) metrics.rateLimitFallbacks.inc({ bucket }, n);

      const pool = app.db.driver.poolStats();
      metrics.dbPoolConnections.set({ state: 'in_use' }, pool.total - pool.idle);
      metrics.dbPoolConnections.set({ state: 'idle' }, pool.idle);
      metrics.dbPoolWaiting.set(pool.waiting);
      metrics.dbPoolMax.set(app.db.engine === 'pglite' ? 1 : config.DATABASE_POOL_MAX);
      metrics.diskFree.set((await freePercent(config.dataDir).catch(() => NaN)) / 100);

      // Both tables are small (backups: retention-bounded; alerts: at most one firing row per rule).
      const row = await withDeadline(
        app.db.withSystem((tx) =>
          tx.one<ScrapeRow>(sql`
            select
              (select max(finished_at) from backups where status = 'completed') as last_success,
              (select max(verified_at) from backups where verify_status = 'passed') as last_verified,
              (select size_bytes from backups where status = 'completed' order by finished_at desc nulls last limit 1) as last_size,
              (select json_agg(json_build_object('rule', rule, 'severity', severity)) from alerts where status = 'firing') as firing`),
        ),
        SCRAPE_QUERY_TIMEOUT_MS,
      );
      metrics.backupLastSuccess.set(seconds(row?.last_success ? new Date(row.last_success) : null));
      metrics.backupLastVerified.set(seconds(row?.last_verified ? new Date(row.last_verified) : null));
      metrics.backupLastSize.set(row?.last_size ?? 0);
      metrics.alertsFiring.reset();
      for (const a of row?.firing ?? []) metrics.alertsFiring.set({ rule: a.rule, severity: a.severity }, 1);
    }

    const allowed = (request: FastifyRequest): boolean => {
      if (config.METRICS_TOKEN) return tokenMatches(request.headers.authorization, config.METRICS_TOKEN);
      return LOOPBACK.test(request.ip) && LOOPBACK.test(request.socket.remoteAddress ?? '');
    };

    if (!config.METRICS_TOKEN && config.isProduction) return; // disabled: GET /metrics is a plain 404

    app.get('/metrics', { config: { public: true }, exposeHeadRoute: false, schema: { hide: true } }, async (request, reply) => {
      if (!allowed(request)) {
        const detail = config.METRICS_TOKEN ? 'A valid metrics token is required' : 'Without METRICS_TOKEN only loopback clients may scrape';
        return sendProblem(request, reply, new AppError('UNAUTHENTICATED', detail, { headers: { 'www-authenticate': 'Bearer realm="metrics"' } }));
      }
      try {
        await refresh();
      } catch (err) {
        // The process and request metrics are still worth having; the stale gauges say so in the log.
        request.log.warn({ err }, 'metrics: scrape-time database values unavailable');
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  },
  { name: 'metrics', dependencies: ['core', 'errors', 'rate-limit'] },
);
