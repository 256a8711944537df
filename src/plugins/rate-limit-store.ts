// Where the counts live (§5.2). Memory by default; Redis when REDIS_URL is set, so N instances share
// one count per client (rate-limiter-flexible's Lua script: SET NX EX + INCRBY + PTTL, atomic).
//
// Redis down or slow must never make a request wait: the client has no offline queue (a command
// while disconnected fails at once), no retries, and each decision has a deadline of
// RATE_LIMIT_REDIS_TIMEOUT_MS. When a decision cannot be made in Redis:
//  - global fails open: the request is admitted uncounted (an outage must not take the API down);
//  - auth and upload fall back to an insurance limiter, a memory limiter of this instance with the
//    same quota, so credential stuffing stays limited (per instance).
// Each fallback is counted (stats) and logged at most once per LOG_EVERY_MS per kind.
// ioredis reconnects on its own; when it is back, decisions go to Redis again.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { BUCKET_NAMES, type Bucket, type BucketName, type Policy } from './rate-limit-policy.js';

const LOG_EVERY_MS = 10_000;

export interface RateLimitStats {
  /** Requests answered 429, by the bucket named in the response. */
  rejected: Record<BucketName, number>;
  /**
   * Decisions the shared store could not make in time, by bucket: global was admitted uncounted
   * (fails open); auth and upload were decided by this instance's memory limiter.
   */
  storeFallbacks: Record<BucketName, number>;
}

export interface Outcome {
  allowed: boolean;
  remaining: number;
  msBeforeReset: number;
}

export interface LimiterStore {
  kind: 'memory' | 'redis';
  /** The Redis connection (Redis store only): tests and readiness look at its status. */
  redis?: Redis;
  consume(bucket: Bucket, key: string): Promise<Outcome>;
  close(): Promise<void>;
}

export const emptyStats = (): RateLimitStats => ({
  rejected: { global: 0, auth: 0, upload: 0 },
  storeFallbacks: { global: 0, auth: 0, upload: 0 },
});

/** Logs the first event of a kind at once, then at most one line per interval carrying the count skipped. */
export function throttledLog(log: FastifyBaseLogger, intervalMs = LOG_EVERY_MS) {
  const last = new Map<string, { at: number; skipped: number }>();
  return (kind: string, fields: Record<string, unknown>, message: string) => {
    const now = Date.now();
    const entry = last.get(kind);
    if (entry && now - entry.at < intervalMs) {
      entry.skipped++;
      return;
    }
    log.warn({ event: kind, ...fields, ...(entry?.skipped ? { skipped_since_last_log: entry.skipped } : {}) }, message);
    last.set(kind, { at: now, skipped: 0 });
  };
}

function toOutcome(res: RateLimiterRes, allowed: boolean): Outcome {
  return { allowed, remaining: res.remainingPoints, msBeforeReset: Math.max(res.msBeforeNext, 0) };
}

async function consumeWith(limiter: RateLimiterAbstract, key: string): Promise<Outcome> {
  try {
    return toOutcome(await limiter.consume(key), true);
  } catch (err) {
    if (err instanceof RateLimiterRes) return toOutcome(err, false);
    throw err;
  }
}

export function memoryStore(policy: Policy, keyPrefix: string): LimiterStore {
  const limiters = new Map(
    BUCKET_NAMES.map((name) => {
      const b = policy.buckets[name];
      return [name, new RateLimiterMemory({ points: b.max, duration: b.windowSeconds, keyPrefix: `${keyPrefix}:${name}` })];
    }),
  );
  return {
    kind: 'memory',
    consume: (bucket, key) => consumeWith(limiters.get(bucket.name)!, key),
    close: async () => undefined,
  };
}

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  timeoutMs: number;
  log: FastifyBaseLogger;
  stats: RateLimitStats;
}

export function createRedisClient(url: string, timeoutMs: number): Redis {
  return new Redis(url, {
    enableOfflineQueue: false, // while disconnected a command fails at once instead of queueing
    maxRetriesPerRequest: 0,
    // Backstop only (decisions have their own deadline, below): stops commands to a frozen server
    // piling up in the client.
    commandTimeout: Math.max(timeoutMs * 10, 1000),
    connectTimeout: Math.max(timeoutMs * 20, 1000), // connecting is off the request path
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000), // reconnect forever, backing off to 2 s
    connectionName: 'darezone-rate-limit',
  });
}

class DeadlineExceeded extends Error {
  constructor(ms: number) {
    super(`no answer from Redis within ${ms} ms`);
  }
}

/**
 * Rejects if `work` has not settled `ms` after the call. When the timer fires, the verdict waits for
 * the check phase of that event-loop turn (setImmediate runs after the poll phase has read the
 * sockets), so a reply that arrived while this process was busy still counts: the deadline measures
 * Redis, not our own event loop. Under load, a plain timer would turn busy-loop turns into
 * fallbacks and break exactness.
 */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new DeadlineExceeded(ms));
      });
    }, ms);
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export async function redisStore(policy: Policy, opts: RedisStoreOptions): Promise<LimiterStore> {
  const { log, stats, timeoutMs } = opts;
  const warn = throttledLog(log);
  const redis = createRedisClient(opts.url, timeoutMs);
  let degraded = false;
  // Without an 'error' listener ioredis would crash the process on a refused connection.
  redis.on('error', (err: Error) => warn('rate_limit_redis_error', { err_message: err.message }, 'rate-limit Redis connection error'));
  redis.on('ready', () => {
    if (degraded) log.info({ event: 'rate_limit_store_recovered' }, 'rate-limit Redis connection is back: counting is shared again');
    degraded = false;
  });

  const shared = new Map<BucketName, RateLimiterRedis>();
  // The insurance: auth and upload keep a memory limiter of this instance with the same quota.
  // (Not rate-limiter-flexible's insuranceLimiter option: that one is called on a store error, and a
  // command that errors after our deadline already fell back would count the request twice.)
  const insurance = new Map<BucketName, RateLimiterMemory>();
  for (const name of BUCKET_NAMES) {
    const b = policy.buckets[name];
    const common = { points: b.max, duration: b.windowSeconds, keyPrefix: `${opts.keyPrefix}:${name}` };
    // rejectIfRedisNotReady: while disconnected, fail at once rather than trying to write.
    shared.set(name, new RateLimiterRedis({ ...common, storeClient: redis, rejectIfRedisNotReady: true }));
    if (name !== 'global') insurance.set(name, new RateLimiterMemory(common));
  }

  const fallback = (bucket: Bucket, key: string, err: Error): Promise<Outcome> | Outcome => {
    stats.storeFallbacks[bucket.name]++;
    degraded = true;
    const memory = insurance.get(bucket.name);
    const action = memory ? "decided by this instance's memory limiter" : 'admitted uncounted (fails open)';
    warn(`rate_limit_store_fallback_${bucket.name}`, { bucket: bucket.name, total: stats.storeFallbacks[bucket.name], err_message: err.message }, `rate-limit store unavailable: ${bucket.name} ${action}`);
    if (memory) return consumeWith(memory, key);
    return { allowed: true, remaining: bucket.max, msBeforeReset: bucket.windowSeconds * 1000 };
  };

  // Give the connection a moment so the first requests are counted in Redis, but never block
  // start-up on it: without Redis the fallbacks apply until ioredis reconnects.
  const connectWait = Math.max(timeoutMs * 20, 1000);
  const ac = new AbortController();
  const connected = await Promise.race([
    once(redis, 'ready', { signal: ac.signal }).then(() => true),
    sleep(connectWait, false, { signal: ac.signal }),
  ]).catch(() => false);
  ac.abort();
  if (!connected) {
    degraded = true;
    log.warn({ event: 'rate_limit_store_unavailable', wait_ms: connectWait }, 'rate-limit Redis not reachable at start-up: using the fallbacks until it is');
  }

  return {
    kind: 'redis',
    redis,
    async consume(bucket, key) {
      try {
        return await withDeadline(consumeWith(shared.get(bucket.name)!, key), timeoutMs);
      } catch (err) {
        return fallback(bucket, key, err as Error);
      }
    },
    async close() {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}

export function createStore(policy: Policy, config: Config, log: FastifyBaseLogger, stats: RateLimitStats): Promise<LimiterStore> {
  if (!config.REDIS_URL) return Promise.resolve(memoryStore(policy, config.RATE_LIMIT_KEY_PREFIX));
  return redisStore(policy, { url: config.REDIS_URL, keyPrefix: config.RATE_LIMIT_KEY_PREFIX, timeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS, log, stats });
}
