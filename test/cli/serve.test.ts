// Start-up, configuration errors, the DATA_DIR lock and graceful shutdown, with real processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../src/db/open.js';
import { testConfig } from '../helpers/app.js';
import { freePort, spawnNode, waitFor, type Spawned } from '../helpers/process.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'dz-serve-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
// Real processes: each one starts Node + tsx and opens (first: creates) an embedded database.
vi.setConfig({ testTimeout: 120_000 });

const serve = (env: Record<string, string>) => spawnNode(['src/cli/index.ts', 'serve'], { LOG_LEVEL: 'info', ...env });

async function listening(p: Spawned, port: number) {
  await waitFor(async () => {
    if (p.child.exitCode !== null) throw new Error(`server exited: ${p.stderr()}`);
    try {
      return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
    } catch {
      return false;
    }
  }, 60_000, 'GET /health → 200');
}

describe('darezone serve', () => {
  it('starts on the embedded default, refuses a second process on the same DATA_DIR, keeps data across restarts', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const first = serve({ DATA_DIR: dataDir, PORT: String(port) });
    await listening(first, port);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const second = serve({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(await second.exited).not.toBe(0);
    const lines = second.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/DATA_DIR .* is in use by another DareZone process/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    // Write while no server runs, then restart and check the server's database still has it.
    const config = testConfig({ DATA_DIR: dataDir });
    let opened = await openDatabase(config);
    await opened.db.withSystem((tx) => tx.execute(sql`insert into habits (name, is_system, created_by) values ('persisted habit', true, null)`));
    await opened.close();
    const again = serve({ DATA_DIR: dataDir, PORT: String(port) });
    await listening(again, port);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    opened = await openDatabase(config);
    const rows = await opened.db.withSystem((tx) => tx.query(sql`select name from habits where name = 'persisted habit'`));
    await opened.close();
    expect(rows).toHaveLength(1);
  });

  it.each([
    ['PORT', { PORT: 'abc' }],
    ['DATABASE_URL', { DATABASE_URL: 'nonsense' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ])('an invalid %s exits non-zero with one line naming it', async (name, env) => {
    const p = serve({ DATA_DIR: tempDir(), ...env });
    expect(await p.exited).toBe(1);
    const lines = p.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^darezone: invalid configuration: ${name}: `));
  });

  it('an unreachable database gives a clear error after bounded retries, not a hang or a stack', async () => {
    const started = Date.now();
    const p = serve({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DATABASE_CONNECT_ATTEMPTS: '2' });
    expect(await p.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000); // 2 attempts 1 s apart + process start-up under a loaded CI machine
    const lines = p.stderr().trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^darezone: database unreachable after 2 attempts/)]);
  });

  it('SIGTERM: the in-flight request completes, readiness reads 503 meanwhile, exit 0', async () => {
    const port = await freePort();
    const p = spawnNode(['test/fixtures/serve-with-slow-route.ts'], { DATA_DIR: tempDir(), PORT: String(port), SLOW_MS: '1500', SHUTDOWN_DRAIN_DELAY_MS: '800', LOG_LEVEL: 'info' });
    await listening(p, port);
    const slow = fetch(`http://127.0.0.1:${port}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
    await new Promise((r) => setTimeout(r, 200));
    const readyBefore = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(readyBefore.status).toBe(200);
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const during = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(during.status).toBe(503);
    expect(((await during.json()) as { failing: string[] }).failing).toEqual(['shutdown']);
    expect(await slow).toEqual({ status: 200, body: { finished: true } });
    expect(await p.exited).toBe(0);
    expect(p.stdout()).toContain('shutdown complete');
  });
});
