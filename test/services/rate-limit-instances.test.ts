// §5.2 exactness with real processes: two `darezone serve` instances (own PORT and DATA_DIR) sharing
// the machine's Redis. 200 concurrent login attempts from one client spread over both: exactly 10
// are admitted in total.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort, spawnNode, waitFor, type Spawned } from '../helpers/process.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `dz-test:rl:${randomUUID()}`;
const dirs: string[] = [];
const servers: { p: Spawned; port: number }[] = [];

async function serve(): Promise<{ p: Spawned; port: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dz-rl-'));
  dirs.push(dir);
  const port = await freePort();
  const p = spawnNode(['src/cli/index.ts', 'serve'], {
    PORT: String(port),
    DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    JOBS_ENABLED: 'false', // nothing to do with this test; less start-up work on a busy machine
    RATE_LIMIT_ENABLED: 'true',
    REDIS_URL,
    RATE_LIMIT_KEY_PREFIX: prefix,
    // Exactness is about atomic counting; a deadline no loaded test machine misses keeps a slow
    // reply from being decided per instance (that path has its own test). Checked below: no fallback.
    RATE_LIMIT_REDIS_TIMEOUT_MS: '1000',
  });
  const s = { p, port };
  servers.push(s);
  // Node + tsx + a new embedded database: seconds on an idle machine, over a minute on a 2-core one
  // that other suites keep busy.
  await waitFor(async () => {
    if (p.child.exitCode !== null) throw new Error(`server exited: ${p.stderr()}`);
    try {
      return (await fetch(`http://127.0.0.1:${port}/health/live`)).ok;
    } catch {
      return false;
    }
  }, 240_000, `server on ${port}`);
  return s;
}

beforeAll(async () => {
  await Promise.all([serve(), serve()]);
}, 300_000);

afterAll(async () => {
  for (const { p } of servers) {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

it('200 concurrent login attempts from one IP over two instances sharing Redis: exactly 10 admitted', async () => {
  // A different email each time, so the per-email lockout (§5.1, also a 429) never answers instead.
  const body = (i: number) => JSON.stringify({ email: `someone${i}@example.test`, password: 'not-the-password-1' });
  const attempts = Array.from({ length: 200 }, (_, i) =>
    fetch(`http://127.0.0.1:${servers[i % 2]!.port}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i) }).then(
      async (r) => ({ status: r.status, port: servers[i % 2]!.port, ratelimit: r.headers.get('ratelimit'), body: await r.text() }),
    ),
  );
  const responses = await Promise.all(attempts);
  const admitted = responses.filter((r) => r.status !== 429);
  expect(admitted).toHaveLength(10);
  expect(new Set(responses.map((r) => r.port)).size).toBe(2);
  expect(responses.filter((r) => r.status === 429).every((r) => JSON.parse(r.body).code === 'RATE_LIMITED')).toBe(true);
  // Both instances counted in the one Redis key for this client.
  const redis = new Redis(REDIS_URL);
  try {
    expect(await redis.get(`${prefix}:auth:127.0.0.1`)).toBe('200');
  } finally {
    await redis.quit();
  }
  for (const { p } of servers) expect(p.stdout()).not.toContain('rate_limit_store_fallback');
});
