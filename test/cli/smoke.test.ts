// `darezone smoke` as an operator runs it: a child process against a real server listening on a
// port, with production's rate limits on. A small proxy in front of the same server plays a broken
// or rate-limited deployment; it forwards as a trusted proxy with its own client address, so the
// runs through it do not eat into the direct run's auth budget (10 a minute per IP).
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../helpers/app.js';
import { freePort, spawnNode } from '../helpers/process.js';

// Real processes (Node + tsx start-up) on a machine that may be busy: generous, never timed.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

type Fault = { status: number; headers?: Record<string, string>; body: unknown };
type FaultFor = (method: string, url: string) => Fault | undefined;

const dataDir = mkdtempSync(path.join(tmpdir(), 'dz-smoke-'));
let server: RunningServer;
let proxy: http.Server;
let proxyUrl: string;
let fault: FaultFor = () => undefined;
let proxiedClient = 0;

beforeAll(async () => {
  server = await startServer(
    testConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      RATE_LIMIT_ENABLED: 'true', // production defaults: global 100, auth 10, upload 5 per minute
      TRUST_PROXY: '127.0.0.1/32',
    }),
  );
  const upstream = new URL(server.url);
  proxy = http.createServer((req, res) => {
    const injected = fault(req.method ?? 'GET', req.url ?? '/');
    if (injected) {
      req.resume();
      res.writeHead(injected.status, { 'content-type': 'application/problem+json', ...injected.headers });
      res.end(JSON.stringify(injected.body));
      return;
    }
    const forwarded = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-for': `198.51.100.${proxiedClient}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function smoke(baseUrl: string, ...extra: string[]) {
  return spawnNode(['src/cli/index.ts', 'smoke', '--base-url', baseUrl, ...extra], {});
}

/** Through the proxy, as a client address of its own, with `f` deciding which requests it breaks. */
function smokeThroughProxy(f: FaultFor) {
  proxiedClient++;
  fault = f;
  return smoke(proxyUrl);
}

const query = <T>(text: ReturnType<typeof sql>) => server.app.db.withSystem((tx) => tx.query<T>(text));

const accountIds = async () => new Set((await query<{ id: string }>(sql`select id from users`)).map((r) => r.id));

/** The one account a run created (each run signs up its own). */
async function accountSince(before: Set<string>) {
  const created = [...(await accountIds())].filter((id) => !before.has(id));
  expect(created).toHaveLength(1);
  const [account] = await query<{ id: string; email: string; bio: string | null; points: number }>(
    sql`select u.id, u.email, p.bio, p.points from users u join user_profiles p on p.user_id = u.id where u.id = ${created[0]}`,
  );
  return account!;
}

/** What a run may leave of its account: live sessions, active memberships, media. */
async function leftBehind(userId: string) {
  const count = async (text: ReturnType<typeof sql>) => (await query<{ n: number }>(text))[0]!.n;
  return {
    sessions: await count(sql`select count(*)::int as n from refresh_tokens where user_id = ${userId} and revoked_at is null`),
    activeMemberships: await count(sql`select count(*)::int as n from challenge_members where user_id = ${userId} and status = 'active'`),
    media: await count(sql`select count(*)::int as n from media where owner_id = ${userId}`),
  };
}

describe('darezone smoke', () => {
  it('walks the main flows against a real server and leaves no session, membership or media behind', async () => {
    const before = await accountIds();
    const run = smoke(`${server.url}/`);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).toBe('');
    const lines = run.stdout().trim().split('\n');
    const last = lines.pop();
    expect(last).toMatch(new RegExp(`^smoke: ${lines.length} steps passed in \\d+\\.\\d s against ${server.url.replace(/\./g, '\\.')}$`));
    for (const line of lines) expect(line).toMatch(/^ok {3}\S.* \d+ ms$/);
    const names = lines.map((l) => l.slice(5).replace(/\s+\d+ ms$/, '').trim());
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /health/ready',
        'GET /openapi.json',
        'POST /api/v1/auth/signup',
        'POST /api/v1/checkins',
        'POST /api/v1/checkins again (409)',
        'POST /api/v1/media',
        'GET media bytes (signed URL)',
        'POST /api/v1/auth/refresh reused (401)',
        'POST /api/v1/auth/logout (all sessions)',
      ]),
    );

    const account = await accountSince(before);
    expect(account).toMatchObject({ email: expect.stringMatching(/^smoke\+[0-9a-f]{12}@example\.com$/), points: 10 });
    expect(account.bio).toMatch(/darezone smoke/);
    expect(await leftBehind(account.id)).toEqual({ sessions: 0, activeMemberships: 0, media: 0 });
  });

  it('an unreachable base URL exits 1 with one line', async () => {
    const run = smoke(`http://127.0.0.1:${await freePort()}`, '--timeout-ms', '5000');
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual([
      expect.stringMatching(/^darezone: smoke failed at GET \/health\/ready: cannot reach the server: .*ECONNREFUSED/),
    ]);
    expect(run.stdout()).toMatch(/^FAIL GET \/health\/ready +\d+ ms\n$/);
  });

  it('a broken check-in route exits 1 naming the step, after logging the throwaway account out', async () => {
    const before = await accountIds();
    const run = smokeThroughProxy((method, url) =>
      method === 'POST' && url === '/api/v1/checkins'
        ? { status: 500, body: { status: 500, code: 'INTERNAL', detail: 'An unexpected error occurred', request_id: 'req-smoke-1' } }
        : undefined,
    );
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual([
      'darezone: smoke failed at POST /api/v1/checkins: expected 201, got 500 (INTERNAL; An unexpected error occurred; request_id req-smoke-1)',
    ]);
    const lines = run.stdout().trim().split('\n');
    expect(lines.at(-1)).toMatch(/^FAIL POST \/api\/v1\/checkins +\d+ ms$/);
    expect(lines.slice(0, -1).every((l) => l.startsWith('ok   '))).toBe(true);
    expect(lines).not.toContainEqual(expect.stringMatching(/^smoke:/));
    // Best-effort clean-up after the failure: the challenge left, every session ended.
    expect(await leftBehind((await accountSince(before)).id)).toEqual({ sessions: 0, activeMemberships: 0, media: 0 });
  });

  it('a 429 stops the walk with a message naming Retry-After', async () => {
    const run = smokeThroughProxy((method, url) =>
      method === 'POST' && url === '/api/v1/auth/signup'
        ? { status: 429, headers: { 'retry-after': '17' }, body: { status: 429, code: 'RATE_LIMITED', bucket: 'auth' } }
        : undefined,
    );
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual([
      expect.stringMatching(/^darezone: smoke failed at POST \/api\/v1\/auth\/signup: rate limited: 429 \(bucket auth\), Retry-After 17 s;/),
    ]);
  });

  it('refuses a base URL that is not http(s), and a missing one, with one line', async () => {
    const bad = smoke('ftp://example.com');
    expect(await bad.exited).toBe(1);
    expect(bad.stderr().trim().split('\n')).toEqual(['darezone: --base-url must be http(s), not ftp:']);

    const missing = spawnNode(['src/cli/index.ts', 'smoke'], {});
    expect(await missing.exited).toBe(1);
    expect(missing.stderr().trim().split('\n')).toEqual([expect.stringMatching(/--base-url/)]);
  });
});
