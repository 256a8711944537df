// Redis failing under the limiter (§5.2), with a redis-server this test owns: frozen (SIGSTOP: the
// connection stays up, replies never come) and killed (SIGKILL). Every decision stays within 100 ms,
// global fails open, auth stays enforced per instance, the fallbacks are counted and logged without
// flooding the log, and once redis-server is back on the same port counting is shared again.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { captureLogs } from '../helpers/log-capture.js';
import { freePort, waitFor } from '../helpers/process.js';

const DECISION_BOUND_MS = 100;
const prefix = `dz-test:rl:${randomUUID()}`;
let port: number;
let server: ChildProcess | undefined;

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  server = child;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }, 10_000, 'redis-server to answer');
}

async function killRedis(): Promise<void> {
  const child = server!;
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  server = undefined;
}

async function redisGet(key: string) {
  const direct = new Redis({ port });
  try {
    return await direct.get(key);
  } finally {
    direct.disconnect();
  }
}

const probe = (app: FastifyInstance) => {
  app.get('/rl-probe/public', { config: { public: true } }, async () => ({ ok: true }));
};
const logs = captureLogs();
let a: TestContext;
let b: TestContext;
const instances = () => [a, b] as const;

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  const env = {
    RATE_LIMIT_ENABLED: 'true',
    REDIS_URL: `redis://127.0.0.1:${port}`,
    RATE_LIMIT_KEY_PREFIX: prefix,
    RATE_LIMIT_GLOBAL_MAX: '20',
    // The bound asserted is 100 ms per decision; a 20 ms deadline leaves the rest for a loaded
    // 2-core machine's scheduling (timers fire late when other test suites hog the CPUs).
    RATE_LIMIT_REDIS_TIMEOUT_MS: '20',
  };
  a = await createTestApp({ env, extend: probe, fastify: { logger: logs.logger } });
  b = await createTestApp({ env, extend: probe });
});
afterAll(async () => {
  server?.kill('SIGCONT');
  await Promise.all([a?.close(), b?.close()]);
  if (server) await killRedis();
});

/** Times one decision (the limiter call itself, not the whole inject under a loaded machine). */
async function timedCheck(t: TestContext, ip: string, url: string, method = 'GET') {
  const started = performance.now();
  const decision = await t.app.rateLimit.check({ ip, method, url });
  return { decision: decision!, ms: performance.now() - started };
}

/** Sends n auth decisions for one IP to one instance; returns how many were admitted and the slowest. */
async function authRound(t: TestContext, ip: string, n: number) {
  let admitted = 0;
  let slowest = 0;
  for (let i = 0; i < n; i++) {
    const { decision, ms } = await timedCheck(t, ip, '/api/v1/auth/login', 'POST');
    if (decision.allowed) admitted++;
    slowest = Math.max(slowest, ms);
  }
  return { admitted, slowest };
}

async function globalRound(t: TestContext, ip: string, n: number) {
  let admitted = 0;
  let slowest = 0;
  for (let i = 0; i < n; i++) {
    const { decision, ms } = await timedCheck(t, ip, '/rl-probe/public');
    if (decision.allowed) admitted++;
    slowest = Math.max(slowest, ms);
  }
  return { admitted, slowest };
}

async function sharedAgain(ip: string) {
  // 6 on one instance and 5 on the other: the 11th, wherever it lands, is over the shared limit.
  const first = await authRound(a, ip, 6);
  const second = await authRound(b, ip, 5);
  return first.admitted + second.admitted;
}

describe('Redis outage', () => {
  it('while Redis is up, counting is shared between the instances', async () => {
    expect(await sharedAgain('198.51.100.1')).toBe(10);
    expect(await redisGet(`${prefix}:auth:198.51.100.1`)).toBe('11');
  });

  it('Redis frozen (SIGSTOP): decisions time out fast, global passes, auth stays enforced per instance', async () => {
    server!.kill('SIGSTOP');
    try {
      for (const t of instances()) {
        const global = await globalRound(t, '198.51.100.2', 30);
        expect(global.admitted).toBe(30); // over the limit of 20, admitted: fails open
        expect(global.slowest).toBeLessThan(DECISION_BOUND_MS);
        const auth = await authRound(t, '198.51.100.3', 12);
        expect(auth.admitted).toBe(10); // the 11th and 12th are 429 on each instance
        expect(auth.slowest).toBeLessThan(DECISION_BOUND_MS);
        expect(t.app.rateLimit.stats.storeFallbacks.global).toBeGreaterThanOrEqual(30);
        expect(t.app.rateLimit.stats.storeFallbacks.auth).toBeGreaterThanOrEqual(12);
      }
      // The HTTP answer agrees with the decision.
      const res = await a.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '198.51.100.3', payload: {} });
      expect(res.statusCode).toBe(429);
    } finally {
      server!.kill('SIGCONT');
    }
    await waitFor(() => instances().every((t) => t.app.rateLimit.redis!.status === 'ready'), 10_000, 'ioredis ready after SIGCONT');
  });

  it('Redis killed (SIGKILL): every decision within 100 ms, global passes, the 11th auth request per instance is 429', async () => {
    for (const t of instances()) t.app.rateLimit.stats.storeFallbacks.global = t.app.rateLimit.stats.storeFallbacks.auth = 0;
    await killRedis();
    for (const t of instances()) {
      const global = await globalRound(t, '198.51.100.4', 30);
      expect(global.admitted).toBe(30);
      expect(global.slowest).toBeLessThan(DECISION_BOUND_MS);
      const auth = await authRound(t, '198.51.100.5', 11);
      expect(auth.admitted).toBe(10);
      expect(auth.slowest).toBeLessThan(DECISION_BOUND_MS);
      expect(t.app.rateLimit.stats.storeFallbacks.global).toBe(30 + 11); // the auth requests count globally too
      expect(t.app.rateLimit.stats.storeFallbacks.auth).toBe(11);
    }
    for (const [url, method, status] of [['/rl-probe/public', 'GET', 200], ['/api/v1/auth/login', 'POST', 429]] as const) {
      const started = performance.now();
      const res = await b.app.inject({ method, url, remoteAddress: method === 'GET' ? '198.51.100.4' : '198.51.100.5', payload: method === 'POST' ? {} : undefined });
      expect(res.statusCode).toBe(status);
      expect(performance.now() - started).toBeLessThan(1000); // end to end, generous: the bound above is the decision's
    }
  });

  it('each fallback is logged, but not once per request', () => {
    const events = logs.lines.map((l) => JSON.parse(l) as { event?: string }).filter((l) => l.event?.startsWith('rate_limit_'));
    const fallbackLines = events.filter((l) => l.event!.startsWith('rate_limit_store_fallback_'));
    expect(new Set(fallbackLines.map((l) => l.event))).toEqual(new Set(['rate_limit_store_fallback_global', 'rate_limit_store_fallback_auth']));
    // a saw 60+ fallbacks per bucket within a few seconds: a handful of lines, not one per request.
    expect(fallbackLines.length).toBeLessThanOrEqual(8);
    expect(a.app.rateLimit.stats.storeFallbacks.global).toBeGreaterThan(fallbackLines.length);
  });

  it('redis-server back on the same port: ioredis reconnects and counting is shared in Redis again', async () => {
    await startRedis();
    await waitFor(() => instances().every((t) => t.app.rateLimit.redis!.status === 'ready'), 15_000, 'ioredis to reconnect');
    const before = { ...a.app.rateLimit.stats.storeFallbacks };
    expect(await sharedAgain('198.51.100.6')).toBe(10);
    expect(await redisGet(`${prefix}:auth:198.51.100.6`)).toBe('11');
    expect(a.app.rateLimit.stats.storeFallbacks).toEqual(before);
    const recovered = logs.lines.filter((l) => l.includes('"rate_limit_store_recovered"'));
    expect(recovered.length).toBeGreaterThanOrEqual(1);
  });
});
