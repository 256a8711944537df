// Error tracking (§5.3) on the wire: a local HTTP server stands in for Sentry's ingest endpoint
// (DSN http://publickey@127.0.0.1:PORT/1). A forced 500 and a failed job each arrive as an envelope
// with release and environment; no envelope carries the request's bearer token, password or
// cookie; 4xx are not reported.
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';
import { SENTRY_RELEASE } from '../../src/plugins/sentry.js';
import { APP_VERSION } from '../../src/version.js';

interface Envelope {
  raw: string;
  events: Record<string, unknown>[];
}

let server: Server;
const envelopes: Envelope[] = [];
let t: TestContext;
let token: string;

const SECRET_PASSWORD = 'Hunter2-Correct-Horse-Battery';
const SECRET_COOKIE = 'session=cookie-value-that-must-not-leak-42';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const raw = body.toString('utf8');
      const lines = raw.split('\n').filter(Boolean);
      const events: Record<string, unknown>[] = [];
      // Envelope: a header line, then (item header, item payload) pairs.
      for (let i = 1; i + 1 < lines.length; i += 2) {
        const header = JSON.parse(lines[i]!) as { type: string };
        if (header.type === 'event') events.push(JSON.parse(lines[i + 1]!) as Record<string, unknown>);
      }
      if (req.url?.startsWith('/api/1/envelope/')) envelopes.push({ raw, events });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t = await createTestApp({
    env: { SENTRY_DSN: `http://publickey@127.0.0.1:${port}/1` },
    extend: (app) => {
      app.post('/test/explode', { config: { public: true } }, async () => {
        throw new Error(`database said: connection to postgres://app:${SECRET_PASSWORD}@db.internal:5432 refused`);
      });
      app.get('/test/forbidden', async () => {
        throw Object.assign(new Error('nope'), { statusCode: 403 });
      });
    },
  });
  token = (await t.users.create()).token;
});
afterAll(async () => {
  await t.close();
  await new Promise((resolve) => server.close(resolve));
});

const allEvents = () => envelopes.flatMap((e) => e.events);

it('a forced 500 arrives with release and environment, scrubbed of token, password and cookie', async () => {
  const res = await t.app.inject({
    method: 'POST',
    url: '/test/explode?token=query-secret-value',
    headers: { authorization: `Bearer ${token}`, cookie: SECRET_COOKIE, 'x-api-key': 'api-key-secret-value' },
    payload: { email: 'someone@example.test', password: SECRET_PASSWORD },
  });
  expect(res.statusCode).toBe(500);
  await t.app.errorTracking.flush(5000);
  await waitFor(() => allEvents().some((e) => JSON.stringify(e).includes('database said')), 10_000, 'the 500 envelope');
  const event = allEvents().find((e) => JSON.stringify(e).includes('database said'))!;
  expect(event.release).toBe(SENTRY_RELEASE);
  expect(String(event.release)).toContain(APP_VERSION);
  expect(event.environment).toBe('test');
  expect(event.tags).toMatchObject({ route: '/test/explode' });
  expect((event.request as { method: string; url: string }).url).toBe('/test/explode');
  const headers = (event.request as { headers: Record<string, string> }).headers;
  expect(headers.authorization).toBe('[redacted]');
  expect(headers.cookie).toBe('[redacted]');
  expect(JSON.stringify(event)).toContain('postgres://[redacted]@db.internal');
});

it('a failed job run arrives with release, environment and the job name', async () => {
  const def = t.app.scheduler.get('stats.refresh')!;
  const original = { ...def }; // run and retries are put back below
  def.run = async () => {
    throw new Error(`refresh broke (password=${SECRET_PASSWORD})`);
  };
  def.retries = { attempts: 1, delayMs: 0 };
  try {
    const run = await t.app.scheduler.trigger('stats.refresh');
    expect((await run.done).status).toBe('failed');
  } finally {
    Object.assign(def, original);
  }
  await t.app.errorTracking.flush(5000);
  await waitFor(() => allEvents().some((e) => (e.tags as Record<string, string> | undefined)?.job === 'stats.refresh'), 10_000, 'the job envelope');
  const event = allEvents().find((e) => (e.tags as Record<string, string> | undefined)?.job === 'stats.refresh')!;
  expect(event).toMatchObject({ release: SENTRY_RELEASE, environment: 'test', tags: { job: 'stats.refresh', job_status: 'failed' } });
  expect(JSON.stringify(event)).toContain('refresh broke');
});

it('4xx are not reported, and no envelope ever carried a secret', async () => {
  const before = allEvents().length;
  expect((await t.app.inject({ url: '/test/forbidden', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(403);
  expect((await t.app.inject({ url: '/api/v1/nothing' })).statusCode).toBe(404);
  expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'x@example.test', password: SECRET_PASSWORD } })).statusCode).toBe(401);
  await t.app.errorTracking.flush(5000);
  expect(allEvents().length).toBe(before);

  expect(envelopes.length).toBeGreaterThanOrEqual(2);
  const wire = envelopes.map((e) => e.raw).join('\n');
  for (const secret of [token, SECRET_PASSWORD, 'cookie-value-that-must-not-leak', 'api-key-secret-value', 'query-secret-value']) {
    expect(wire, secret).not.toContain(secret);
  }
});
