// Readiness checks Redis when REDIS_URL is set (§5.3): a named, time-bounded failure when Redis
// is unreachable or hangs, with no address or password in the body. The passing side needs a real
// Redis: test/services/health-redis.test.ts.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { freePort } from '../helpers/process.js';

let silent: Server; // accepts connections and never answers: a hung Redis
const sockets = new Set<Socket>();
beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

it('without REDIS_URL there is no redis check', async () => {
  const t = await createTestApp();
  try {
    expect(Object.keys((await t.app.inject({ url: '/health/ready' })).json().checks)).not.toContain('redis');
  } finally {
    await t.close();
  }
});

it('Redis unreachable: 503 naming redis, no address or password in the body', async () => {
  const closedPort = await freePort();
  const t = await createTestApp({ env: { REDIS_URL: `redis://:hunter2@127.0.0.1:${closedPort}` } });
  try {
    const res = await t.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'fail', failing: ['redis'], checks: { redis: { status: 'fail', error: 'unavailable' } } });
    expect(res.body).not.toMatch(/hunter2|127\.0\.0\.1|\d{4,5}/);
  } finally {
    await t.close();
  }
});

it('Redis hanging: the check is cut off by its time bound', async () => {
  const { port } = silent.address() as AddressInfo;
  const t = await createTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  try {
    const started = Date.now();
    const res = await t.app.inject({ url: '/health/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ failing: ['redis'], checks: { redis: { status: 'fail' } } });
    expect(Date.now() - started).toBeLessThan(4000);
  } finally {
    await t.close();
  }
});
