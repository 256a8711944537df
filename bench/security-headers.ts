// What the security-header mechanism costs per request (docs/PERFORMANCE.md, "Security headers").
//
//   npm run bench:security-headers                     (BENCH_REQUESTS=20000 BENCH_ROUNDS=9 by default)
//
// Four Fastify instances with one trivial route each, driven by a tight `inject()` loop in this
// process (no sockets, so the machine's other load and the kernel add the least noise):
//   off         no security headers at all
//   floor       the handler itself sets the same 8 headers from a frozen object: no hook at all, so
//               this is what emitting the headers costs whatever sets them
//   ours        src/plugins/security-headers.ts: one onRequest hook, one prefix test, one
//               reply.headers() with a frozen object computed at start-up
//   per-request the same headers built in an onSend hook on every request (what a middleware that
//               computes its policy per request does), for comparison
// Each (round, variant) runs in its own child process: inject() retains about 10 KB per request
// until the process exits (light-my-request 6.8 / Fastify 5.12; a real socket does not, checked),
// so one process for the whole run would measure a growing heap and end out of memory.
// Rounds interleave the variants; the median round counts. Reported: wall µs and CPU µs per request,
// and the difference to `off`. Exits non-zero if ours costs more than 50 µs of CPU per request
// (about a tenth of the cheapest authenticated request, docs/PERFORMANCE.md) — a gross regression.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { loadConfig } from '../src/config.js';
import securityHeaders, { API_CSP } from '../src/plugins/security-headers.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const WARMUP = 3000;
const MAX_OURS_CPU_US = 50;

type Variant = 'off' | 'floor' | 'ours' | 'per-request';
const VARIANTS: Variant[] = ['off', 'floor', 'ours', 'per-request'];

async function build(variant: Variant): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const config = loadConfig({ APP_ENV: 'production', JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789abcdef', MEDIA_SIGNING_KEY: 'bench-media-key-long-enough-0123456789abcdef' });
  // The plugin reads app.config from the `core` plugin; a stub stands in for it here.
  await app.register(fp((instance) => void instance.decorate('config', config), { name: 'core' }));
  if (variant === 'ours') await app.register(securityHeaders);
  if (variant === 'per-request') {
    app.addHook('onSend', async (request, reply) => {
      const headers: Record<string, string> = {
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'x-xss-protection': '0',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'cross-origin-resource-policy': request.url.startsWith('/media/files/') ? 'cross-origin' : 'same-origin',
        'cache-control': 'no-store',
      };
      if (!request.url.startsWith('/docs')) headers['content-security-policy'] = API_CSP;
      void reply.headers(headers);
    });
  }
  const floor = variant === 'floor' ? (await import('../src/plugins/security-headers.js')).buildSecurityHeaders(config).api : null;
  app.get('/api/v1/ping', async (_request, reply) => {
    if (floor) void reply.headers(floor);
    return { ok: true };
  });
  await app.ready();
  return app;
}

async function round(app: FastifyInstance): Promise<{ wallUs: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) {
    const res = await app.inject({ method: 'GET', url: '/api/v1/ping' });
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  }
  const wallUs = Number(process.hrtime.bigint() - started) / 1000 / REQUESTS;
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (used.user + used.system) / REQUESTS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Child: one variant, warm-up, then one measured round; prints {wallUs, cpuUs}. */
async function child(variant: Variant) {
  const app = await build(variant);
  if (variant === 'ours') {
    const check = await app.inject({ url: '/api/v1/ping' });
    if (check.headers['content-security-policy'] !== API_CSP || !check.headers['strict-transport-security']) throw new Error('the plugin did not set its headers');
  }
  for (let i = 0; i < WARMUP; i++) await app.inject({ url: '/api/v1/ping' }); // JIT, inline caches
  process.stdout.write(`${JSON.stringify(await round(app))}\n`);
  await app.close();
}

function measure(variant: Variant): { wallUs: number; cpuUs: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', variant], {
    env: { ...process.env, BENCH_REQUESTS: String(REQUESTS) },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { wallUs: number; cpuUs: number };
}

function main() {
  const results = Object.fromEntries(VARIANTS.map((v) => [v, { wall: [] as number[], cpu: [] as number[] }])) as Record<Variant, { wall: number[]; cpu: number[] }>;
  for (let r = 0; r < ROUNDS; r++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
    for (const v of order) {
      const { wallUs, cpuUs } = measure(v);
      results[v].wall.push(wallUs);
      results[v].cpu.push(cpuUs);
    }
  }
  const off = { wall: median(results.off.wall), cpu: median(results.off.cpu) };
  console.log(`security headers: ${ROUNDS} rounds × ${REQUESTS} inject() requests per variant (each in a fresh process), Node ${process.version}`);
  console.log('| variant | wall µs/req (median) | CPU µs/req (median) | Δ CPU vs off |');
  console.log('|---|---|---|---|');
  for (const v of VARIANTS) {
    const wall = median(results[v].wall);
    const cpu = median(results[v].cpu);
    console.log(`| ${v} | ${wall.toFixed(1)} | ${cpu.toFixed(1)} | ${v === 'off' ? '—' : `${(cpu - off.cpu).toFixed(1)} µs`} |`);
  }
  const ours = median(results.ours.cpu) - off.cpu;
  if (ours > MAX_OURS_CPU_US) {
    console.error(`FAIL: the header hook costs ${ours.toFixed(1)} µs CPU per request (limit ${MAX_OURS_CPU_US})`);
    process.exit(1);
  }
}

const childIndex = process.argv.indexOf('--child');
if (childIndex > 0) await child(process.argv[childIndex + 1] as Variant);
else main();
