// PGlite is a single-writer database in a directory: a second process opening the same DATA_DIR
// would corrupt it. The lock file is created with O_EXCL (atomic), holds the owner's pid, and a
// lock whose pid is no longer alive is taken over (a crashed server must not brick the directory).
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`DATA_DIR ${dir} is in use by another DareZone process (pid ${pid}); stop it or use another DATA_DIR`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DataDirLock {
  release(): void;
}

const heldHere = new Set<string>();

export function lockDataDir(dataDir: string): DataDirLock {
  // One key per directory however it is spelled ('./data', 'data/', an absolute path): otherwise a
  // second spelling would find our own pid in the file, call it stale and take the lock over.
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  if (heldHere.has(dir)) throw new DataDirLockedError(dir, process.pid);
  const file = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(dir);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          heldHere.delete(dir);
          rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      // Our own pid here means a previous life of this container (pid 1 again), not a live owner.
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirLockedError(dir, pid);
      rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new DataDirLockedError(dir, -1);
}
