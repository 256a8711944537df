// Memory cost of a 50 MiB video upload (docs/PERFORMANCE.md, "Uploads"): the real app in a server
// process of its own, listening on loopback; this process streams a multipart body to it over real
// HTTP and samples the server's RSS (/proc/<pid>/status, every 5 ms) during the upload, after a
// warm-up upload of the same size and a GC in the server. The body is generated on the fly (an MP4
// `ftyp` box, then filler), so the client holds no 50 MiB buffer either. The download of the stored
// video through its signed URL is measured the same way.
//
//   npm run bench:upload-memory            (BENCH_UPLOAD_ROUNDS=5 by default; Linux: reads /proc)
//
// Exits non-zero if the server's RSS grows by 20 MiB or more during any measured upload or
// download, or a video is not stored and served byte for byte.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDriver } from '../src/db/client.js';
import { Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { loadKeySet, signAccessToken } from '../src/plugins/auth-keys.js';

const MiB = 1024 * 1024;
const VIDEO_BYTES = 50 * MiB;
const LIMIT_BYTES = 20 * MiB;
const ROUNDS = Number(process.env.BENCH_UPLOAD_ROUNDS ?? 5);
const CHUNK = 64 * 1024;


/** The multipart body as a stream: kind, then a `file` part of `size` bytes (ftyp + mdat + filler). */
function body(size: number, boundary: string) {
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nvideo\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const ftyp = Buffer.alloc(32);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftypisom', 4, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isommp42', 16, 'latin1');
  ftyp.writeUInt32BE(size - 24, 24);
  ftyp.write('mdat', 28, 'latin1');
  const filler = randomBytes(CHUNK); // one reused chunk: incompressible, never 50 MiB in memory
  const hash = createHash('sha256');
  function* chunks() {
    yield head;
    hash.update(ftyp);
    yield ftyp;
    for (let left = size - ftyp.length; left > 0; left -= CHUNK) {
      const piece = left >= CHUNK ? filler : filler.subarray(0, left);
      hash.update(piece);
      yield piece;
    }
    yield tail;
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), length: head.length + size + tail.length, sha256: () => hash.digest('hex') };
}

function post(port: number, token: string, size: number): Promise<{ status: number; json: { id?: string; sha256?: string; url?: string; size?: number }; sha256: string }> {
  const boundary = `bench${randomBytes(8).toString('hex')}`;
  const b = body(size, boundary);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/media',
        headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': b.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { id?: string }, sha256: b.sha256() }));
      },
    );
    req.on('error', reject);
    pipeline(b.stream, req).catch(reject);
  });
}

function download(port: number, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: url }, (res) => {
      const hash = createHash('sha256');
      res.on('data', (d: Buffer) => hash.update(d));
      res.on('end', () => resolve(hash.digest('hex')));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) * 1024 : 0;
}

interface Server {
  port: number;
  token: string;
  pid: number;
  gc(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `work` while sampling the server's RSS; returns the peak growth over the RSS just before. */
async function measure<T>(server: Server, work: () => Promise<T>) {
  await server.gc();
  const baseline = rssOf(server.pid);
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(server.pid));
  }, 5);
  const started = performance.now();
  try {
    const result = await work();
    peak = Math.max(peak, rssOf(server.pid));
    return { result, baseline, peak, growth: peak - baseline, ms: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

/** Server mode: the real app on in-memory PGlite and a temp DATA_DIR, one user; talks over IPC. */
async function serve() {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:upload-memory does)');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'darezone-bench-upload-'));
  const config = loadConfig({
    APP_ENV: 'test',
    LOG_LEVEL: 'warn',
    JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-0123456789',
    DATA_DIR: dataDir,
    JOBS_ENABLED: 'false',
    RATE_LIMIT_ENABLED: 'false',
    REQUEST_TIMEOUT_MS: '120000',
    MEDIA_QUOTA_BYTES: String(100 * VIDEO_BYTES),
  });
  const db = new Database(await openDriver({ pgliteDir: null }));
  await migrate(db.driver);
  const keys = loadKeySet(config);
  const app = await buildApp({ config, db, keys });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const userId = randomUUID();
  await db.withSystem(async (tx) => {
    await tx.execute(sql`insert into users (id, email, password_hash) values (${userId}, ${`bench-${userId}@example.test`}, 'not-a-real-hash')`);
    await tx.execute(sql`insert into user_profiles (user_id, display_name) values (${userId}, 'Bench')`);
  });
  const token = await signAccessToken(keys, { sub: userId, role: 'user', sid: randomUUID() }, 3600, new Date());
  process.on('message', (msg: string) => {
    if (msg === 'gc') {
      gc();
      setTimeout(() => {
        gc();
        process.send!('gc-done');
      }, 100);
    } else if (msg === 'stop') {
      void app.close().then(() => db.close()).then(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  process.send!({ port, token });
}

async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ port: number; token: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; token: string }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const nextMessage = () => new Promise<void>((resolve) => child.once('message', () => resolve()));
  return {
    ...ready,
    pid: child.pid!,
    gc: () => {
      const done = nextMessage(); // 'gc-done'
      child.send('gc');
      return done;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

async function main() {
  const server = await startServer();
  const { port, token } = server;
  let failed = false;
  try {
    const warm = await post(port, token, VIDEO_BYTES);
    if (warm.status !== 201) throw new Error(`warm-up upload: ${warm.status} ${JSON.stringify(warm.json)}`);
    await download(port, warm.json.url!);
    console.log(`machine: ${os.cpus().length} cores, Node ${process.version}; video ${mib(VIDEO_BYTES)} MiB; limit: server RSS +${mib(LIMIT_BYTES)} MiB`);
    console.log('round | upload: server RSS before → peak (growth) | MiB/s | download: growth | MiB/s');
    for (let round = 1; round <= ROUNDS; round++) {
      const up = await measure(server, () => post(port, token, VIDEO_BYTES));
      if (up.result.status !== 201) throw new Error(`upload ${round}: ${up.result.status} ${JSON.stringify(up.result.json)}`);
      const intact = up.result.json.sha256 === up.result.sha256 && up.result.json.size === VIDEO_BYTES;
      const down = await measure(server, () => download(port, up.result.json.url!));
      const sameBytes = down.result === up.result.sha256;
      const rate = (ms: number) => (VIDEO_BYTES / MiB / (ms / 1000)).toFixed(0);
      console.log(
        `${round} | ${mib(up.baseline)} → ${mib(up.peak)} MiB (+${mib(up.growth)}) | ${rate(up.ms)} | +${mib(down.growth)} MiB | ${rate(down.ms)}` +
          `${intact && sameBytes ? '' : ' | BYTES DIFFER'}`,
      );
      if (up.growth >= LIMIT_BYTES || down.growth >= LIMIT_BYTES || !intact || !sameBytes) failed = true;
    }
  } finally {
    await server.stop();
  }
  if (failed) {
    console.error(`FAIL: the server's RSS grew by ${mib(LIMIT_BYTES)} MiB or more, or bytes differ`);
    process.exit(1);
  }
  console.log(`ok: every upload and download stayed under +${mib(LIMIT_BYTES)} MiB server RSS`);
}

if (process.argv.includes('--serve')) await serve();
else await main();
