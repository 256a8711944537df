// Per-client rate limits (§5.2): layered fixed-window buckets counted per client IP (IPv6 by /64).
//   global  RATE_LIMIT_GLOBAL_MAX  every route, 404s included (health probes and /metrics exempt)
//   auth    RATE_LIMIT_AUTH_MAX    all /api/v1/auth/* together (prefix match, unknown paths too)
//   upload  RATE_LIMIT_UPLOAD_MAX  POST /api/v1/media
// A request counts against every bucket that applies, admitted or not (see README: a rejected
// request still uses a unit; the window end never moves, so honouring Retry-After costs nothing).
// It runs in an onRequest hook registered before `auth`, so unauthenticated floods are limited
// before any token is verified. Every limited response carries RateLimit-Policy and RateLimit
// (draft-ietf-httpapi-ratelimit-headers); a rejection is 429 problem+json with Retry-After.
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';
import { clientKey } from './client-ip.js';
import { bucketsFor, createPolicy, formatRateLimit, type BucketName, type Policy } from './rate-limit-policy.js';
import { createStore, emptyStats, type LimiterStore, type Outcome, type RateLimitStats } from './rate-limit-store.js';

export interface RateLimitDecision {
  allowed: boolean;
  /** The bucket the RateLimit header reports: the one that rejected, or the one closest to its limit. */
  bucket: BucketName;
  remaining: number;
  resetSeconds: number;
  /** When rejected: seconds until every bucket that rejected has reset (the Retry-After header). */
  retryAfterSeconds: number;
  headers: { 'ratelimit-policy': string; ratelimit: string };
}

export interface RateLimitService {
  readonly enabled: boolean;
  readonly store: 'memory' | 'redis' | 'off';
  readonly policy: Policy;
  /** Counters for the monitoring issue (prom-client): rejections and store fallbacks by bucket. */
  readonly stats: RateLimitStats;
  /** The store's Redis connection when REDIS_URL is set. */
  readonly redis?: LimiterStore['redis'];
  /** Counts one request and decides; null when the request is exempt. The hook's whole job. */
  check(request: { ip: string; method: string; url: string; routeUrl?: string }): Promise<RateLimitDecision | null>;
}

declare module 'fastify' {
  interface FastifyInstance {
    rateLimit: RateLimitService;
  }
}

/**
 * Which bucket the RateLimit header reports. Rejected: the most specific bucket that rejected (auth
 * or upload rather than global; Retry-After separately covers every rejecting bucket). Admitted: the
 * fewest remaining units, ties going to the more specific bucket. Sets list global first, so "more
 * specific" is "later"; reset times are not compared, as two stores' clocks jitter by milliseconds.
 */
function reported(outcomes: Outcome[]): number {
  let pick = 0;
  for (let i = 1; i < outcomes.length; i++) {
    const a = outcomes[i]!;
    const b = outcomes[pick]!;
    const tighter = a.allowed !== b.allowed ? !a.allowed : !a.allowed || a.remaining <= b.remaining;
    if (tighter) pick = i;
  }
  return pick;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export default fp(
  async (app) => {
    const { config } = app;
    const policy = createPolicy(config);
    const stats = emptyStats();
    if (!config.RATE_LIMIT_ENABLED) {
      app.decorate('rateLimit', { enabled: false, store: 'off', policy, stats, check: async () => null } satisfies RateLimitService);
      return;
    }
    const store = await createStore(policy, config, app.log, stats);
    app.addHook('onClose', async () => store.close());

    const check: RateLimitService['check'] = async ({ ip, method, url, routeUrl }) => {
      const set = bucketsFor(policy, method, routeUrl, url);
      if (!set) return null;
      const key = clientKey(ip);
      // Every applicable bucket is counted in parallel: one store round trip per request.
      const outcomes = await Promise.all(set.map((bucket) => store.consume(bucket, key)));
      const i = reported(outcomes);
      const bucket = set[i]!.name;
      const outcome = outcomes[i]!;
      let retryAfterMs = 0; // admitted again only once every rejecting bucket has reset
      for (const o of outcomes) if (!o.allowed) retryAfterMs = Math.max(retryAfterMs, o.msBeforeReset, 1);
      const allowed = retryAfterMs === 0;
      const resetSeconds = seconds(outcome.msBeforeReset);
      if (!allowed) stats.rejected[bucket]++;
      return {
        allowed,
        bucket,
        remaining: outcome.remaining,
        resetSeconds,
        retryAfterSeconds: allowed ? 0 : seconds(retryAfterMs),
        headers: { 'ratelimit-policy': policy.policyHeader.get(set)!, ratelimit: formatRateLimit(bucket, outcome.remaining, resetSeconds) },
      };
    };

    app.decorate('rateLimit', { enabled: true, store: store.kind, policy, stats, redis: store.redis, check } satisfies RateLimitService);

    app.addHook('onRequest', async (request, reply) => {
      const decision = await check({ ip: request.ip, method: request.method, url: request.url, routeUrl: request.routeOptions.url });
      if (!decision) return;
      void reply.headers(decision.headers);
      if (!decision.allowed) {
        const b = policy.buckets[decision.bucket];
        throw new AppError('RATE_LIMITED', `Rate limit "${b.name}" exceeded (${b.max} requests per ${b.windowSeconds} s); retry in ${decision.retryAfterSeconds} s`, {
          headers: { 'retry-after': String(decision.retryAfterSeconds) },
          extra: { bucket: decision.bucket },
        });
      }
    });
  },
  { name: 'rate-limit', dependencies: ['core', 'errors'] },
);
