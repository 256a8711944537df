import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { spawnNode } from '../helpers/process.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'dz-jobs-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
// Real processes: each one starts Node + tsx and opens (first: creates) an embedded database.
vi.setConfig({ testTimeout: 120_000 });
const cli = (...args: string[]) => spawnNode(['src/cli/index.ts', 'jobs', ...args], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });

it('darezone jobs run NAME runs it, records it, and jobs list shows it', async () => {
  const run = cli('run', 'notifications.cleanup');
  expect(await run.exited, run.stderr()).toBe(0);
  expect(run.stdout()).toMatch(/^notifications\.cleanup\t[0-9a-f-]{36}\tsuccess\t\d+ ms\n$/);

  const list = cli('list');
  expect(await list.exited, list.stderr()).toBe(0);
  const lines = list.stdout().trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(7);
  expect(lines.find((l) => l.startsWith('notifications.cleanup\t'))).toMatch(/\tlast \S+ success$/);
  expect(lines.find((l) => l.startsWith('challenges.auto_complete\t'))).toMatch(/^challenges\.auto_complete\t5 0 \* \* \*\tnext \S+\tlast never$/);
});

it('an unknown job exits 1 with one line', async () => {
  const run = cli('run', 'no.such.job');
  expect(await run.exited).toBe(1);
  expect(run.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^darezone: unknown job no\.such\.job/)]);
});
