// The embedded database is single-writer: a second server or CLI process on the same DATA_DIR must
// stop with a clear line, while a lock left behind by a crashed process must not brick the
// directory. Engine-independent (runs the same under both configs).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir, type DataDirLock } from '../../src/db/data-dir-lock.js';
import { spawnNode, waitFor, type Spawned } from '../helpers/process.js';

const root = mkdtempSync(path.join(tmpdir(), 'dz-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const freshDir = () => path.join(root, `data-${++n}`);
const lockFile = (dir: string) => path.join(dir, '.lock');

const held: DataDirLock[] = [];
const children: Spawned[] = [];
afterEach(async () => {
  for (const lock of held.splice(0)) lock.release();
  for (const c of children.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) {
      c.child.kill('SIGKILL');
      await c.exited;
    }
  }
});
const take = (dir: string) => {
  const lock = lockDataDir(dir);
  held.push(lock);
  return lock;
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected lockDataDir to throw');
}

/** The pid of a process that has certainly exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  expect(() => process.kill(pid, 0)).toThrow(); // ESRCH: nobody has that pid now
  return pid;
}

/** Another process that locks `dir` and keeps it. */
async function otherHolder(dir: string): Promise<Spawned> {
  const holder = spawnNode(['test/db/fixtures/hold-data-dir-lock.ts', dir], {});
  children.push(holder);
  await waitFor(() => holder.stdout().includes('locked') || holder.child.exitCode !== null, 20_000, 'the child to lock');
  expect(holder.stdout(), holder.stderr()).toContain(`locked ${holder.child.pid}`);
  return holder;
}

describe('lockDataDir', () => {
  it('creates a lock file holding our pid; release removes it and the directory can be locked again', () => {
    const dir = freshDir();
    const lock = lockDataDir(dir);
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
    lock.release();
    expect(existsSync(lockFile(dir))).toBe(false);
    take(dir);
    lock.release(); // the spent handle is a no-op: it must not remove the new holder's file
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
  });

  it('a second lock on the same directory in the same process throws DataDirLockedError', () => {
    const dir = freshDir();
    take(dir);
    const err = thrown(() => lockDataDir(dir));
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).pid).toBe(process.pid);
    expect((err as Error).message).toContain(`DATA_DIR ${dir}`);
    expect(existsSync(lockFile(dir))).toBe(true); // the first holder keeps it
  });

  it('the same directory spelled differently (relative, trailing slash) is still the same lock', () => {
    const dir = freshDir();
    take(dir);
    for (const spelling of [`${dir}/`, path.relative(process.cwd(), dir), path.join(dir, '..', path.basename(dir))]) {
      expect(thrown(() => lockDataDir(spelling)), spelling).toBeInstanceOf(DataDirLockedError);
    }
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
  });

  it('a lock file left by a dead process is taken over', async () => {
    const dir = freshDir();
    take(dir).release();
    const pid = await deadPid();
    writeFileSync(lockFile(dir), String(pid));
    take(dir);
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
  });

  it('a lock file with garbage, or with our own pid from a previous life (pid 1 in a container), is taken over', () => {
    const dir = freshDir();
    take(dir).release();
    writeFileSync(lockFile(dir), 'not a pid\n');
    take(dir).release();
    writeFileSync(lockFile(dir), String(process.pid));
    take(dir);
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
  });

  it('a lock held by another live process is refused with a message naming DATA_DIR and its pid', async () => {
    const dir = freshDir();
    const holder = await otherHolder(dir);
    const pid = holder.child.pid!;
    const err = thrown(() => lockDataDir(dir));
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).pid).toBe(pid);
    expect((err as Error).message).toMatch(new RegExp(`^DATA_DIR ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*\\(pid ${pid}\\)`));
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(String(pid)); // refusing did not disturb it

    // Once the holder stops cleanly it releases, and we can take the directory.
    holder.child.kill('SIGTERM');
    expect(await holder.exited).toBe(0);
    expect(existsSync(lockFile(dir))).toBe(false);
    take(dir);
  });

  it('a holder killed with SIGKILL (a crash) leaves a stale lock that the next process takes over', async () => {
    const dir = freshDir();
    const holder = await otherHolder(dir);
    holder.child.kill('SIGKILL');
    await holder.exited;
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(String(holder.child.pid));
    take(dir);
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
  });
});
