// Readiness of Redis (§5.3), only when REDIS_URL is set. The rate limiter's own connection is pinged
// when it has one (no second connection per probe; it has no offline queue, so a dropped connection
// fails at once instead of queueing). Without it (RATE_LIMIT_ENABLED=false) a short-lived
// connection pings and quits. The caller bounds the time either way.
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { CheckFailed } from './service.js';

const CONNECT_TIMEOUT_MS = 1500;

async function pingWith(redis: Pick<Redis, 'ping'>): Promise<void> {
  const answer = await redis.ping().catch(() => {
    throw new CheckFailed('unavailable');
  });
  if (answer !== 'PONG') throw new CheckFailed('unexpected answer');
}

export async function checkRedis(app: FastifyInstance, url: string): Promise<void> {
  const shared = app.rateLimit.redis;
  if (shared) return pingWith(shared);
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: () => null, // one attempt: this connection lives for one probe
  });
  redis.on('error', () => undefined); // reported through the failed ping, not as an unhandled event
  try {
    await redis.connect().catch(() => {
      throw new CheckFailed('unavailable');
    });
    await pingWith(redis);
  } finally {
    redis.disconnect();
  }
}
