// §5.1 Input limits, walked over the route table: a 2 MiB JSON body is 413 on every route that takes
// a body; prototype-pollution keys are 400 (and pollute nothing); a body in any other media type
// is 415; a scalar query parameter given twice is 400 (never "first wins" or "last wins"); request
// and idle-connection timeouts are set and cut a slow client off.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, png } from '../modules/media/helpers.js';
import { concreteUrl, createSecurityApp, fillPath, hasBody, label, routeSchema, sample, type SecurityApp, type SecUser } from './helpers.js';

let t: SecurityApp;
let user: SecUser;
beforeAll(async () => {
  t = await createSecurityApp();
  user = await t.createUser({ role: 'admin' }); // a platform admin reaches the admin routes' parsers too
});
afterAll(async () => {
  t.expectNoSecretsLogged();
  await t.close();
});

const bodyRoutes = () => t.routes.filter((r) => hasBody(r.method));
// The media routes' scope registers the multipart parser (uploads); elsewhere multipart is refused.
const inMultipartScope = (url: string) => url.startsWith('/api/v1/media');

describe('JSON bodies', () => {
  it('a 2 MiB JSON body is 413 PAYLOAD_TOO_LARGE on every route that takes a body (public ones too)', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const problems: string[] = [];
    for (const r of bodyRoutes()) {
      const res = await t.app.inject({ method: r.method, url: fillPath(r.url), headers: { ...user.auth, 'content-type': 'application/json' }, payload: big });
      if (res.statusCode !== 413 || res.json<{ code: string }>().code !== 'PAYLOAD_TOO_LARGE') problems.push(`${label(r)}: ${res.statusCode}`);
    }
    expect(bodyRoutes().length).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it('1 MiB is the limit: just under passes the parser (then the schema decides)', async () => {
    const limit = t.config.BODY_LIMIT_BYTES;
    expect(limit).toBe(1024 * 1024);
    const under = JSON.stringify({ name: 'x'.repeat(limit - 100) });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/habits', headers: { ...user.auth, 'content-type': 'application/json' }, payload: under });
    expect(res.statusCode).toBe(422); // parsed, then refused by maxLength — not 413
  });

  it('__proto__ and constructor.prototype keys are 400 on every JSON route, top level or nested, and pollute nothing', async () => {
    const payloads = [
      '{"__proto__":{"role":"admin","polluted":true}}',
      '{"constructor":{"prototype":{"role":"admin","polluted":true}}}',
      '{"name":"ok","nested":{"__proto__":{"polluted":true}}}',
      '{"display_name":"x","constructor":{"prototype":{"polluted":true}}}',
    ];
    const problems: string[] = [];
    for (const r of bodyRoutes()) {
      if (inMultipartScope(r.url) && r.method === 'POST') continue;
      for (const payload of payloads) {
        const res = await t.app.inject({ method: r.method, url: fillPath(r.url), headers: { ...user.auth, 'content-type': 'application/json' }, payload });
        if (res.statusCode !== 400) problems.push(`${label(r)} ${payload}: ${res.statusCode}`);
      }
    }
    expect(problems).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    const plain = await t.createUser();
    const attempt = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers: { ...plain.auth, 'content-type': 'application/json' },
      payload: '{"bio":"hi","__proto__":{"role":"admin"}}',
    });
    expect(attempt.statusCode).toBe(400);
    const me = await t.app.inject({ url: '/api/v1/users/me', headers: plain.auth });
    expect(me.json()).toMatchObject({ role: 'user', bio: null });
  });

  it('a body in another media type is 415 UNSUPPORTED_MEDIA_TYPE (text/plain, XML, form, multipart outside uploads)', async () => {
    const bodies: [string, string][] = [
      ['text/plain', '{"name":"x"}'],
      ['application/xml', '<habit><name>x</name></habit>'],
      ['application/x-www-form-urlencoded', 'name=x'],
      ['multipart/form-data; boundary=zz', '--zz\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--zz--\r\n'],
      ['application/json-patch+json', '[{"op":"add","path":"/role","value":"admin"}]'],
    ];
    const problems: string[] = [];
    for (const r of bodyRoutes()) {
      for (const [type, payload] of bodies) {
        if (inMultipartScope(r.url) && type.startsWith('multipart/')) continue; // the upload scope's own type
        const res = await t.app.inject({ method: r.method, url: fillPath(r.url), headers: { ...user.auth, 'content-type': type }, payload });
        if (res.statusCode !== 415 || res.json<{ code: string }>().code !== 'UNSUPPORTED_MEDIA_TYPE') problems.push(`${label(r)} ${type}: ${res.statusCode}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('query strings', () => {
  it('a scalar parameter given twice is 400 on every route with a query schema (?limit=1&limit=2, ?q=ab&q=cd)', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const r of t.routes.filter((x) => x.method === 'GET')) {
      const schema = routeSchema(r, 'querystring');
      if (!schema?.properties) continue;
      const base = sample(schema) as Record<string, unknown>;
      for (const [name, prop] of Object.entries(schema.properties)) {
        if (prop.type === 'array') continue;
        const value = String(sample(prop, {}, ''));
        const params = new URLSearchParams(Object.entries(base).filter(([k]) => k !== name).map(([k, v]): [string, string] => [k, String(v)]));
        params.append(name, value);
        params.append(name, value);
        const res = await t.app.inject({ url: `${concreteUrl(r)}?${params.toString()}`, headers: user.auth });
        checked++;
        if (res.statusCode !== 400) problems.push(`${label(r)} ?${params.toString()}: ${res.statusCode}`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it('the canonical example: ?limit=1&limit=2 → 400 MALFORMED_REQUEST naming the field', async () => {
    const res = await t.app.inject({ url: '/api/v1/challenges?limit=1&limit=2', headers: user.auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'MALFORMED_REQUEST', errors: [{ path: 'querystring.limit' }] });
  });

  it('unknown query parameters are refused too (400), not ignored', async () => {
    const res = await t.app.inject({ url: '/api/v1/challenges?limit=1&role=admin', headers: user.auth });
    expect(res.statusCode).toBe(400);
  });
});

describe('timeouts', () => {
  it('request, idle-connection and keep-alive timeouts are set on the server', () => {
    const server = t.app.server;
    // Node's whole-request limit is the upload allowance; other bodies are held to REQUEST_TIMEOUT_MS
    // by the body-deadline hook (tested below), headers by headersTimeout.
    expect(server.requestTimeout).toBe(t.config.UPLOAD_TIMEOUT_MS);
    expect(server.headersTimeout).toBe(t.config.REQUEST_TIMEOUT_MS);
    expect(server.timeout).toBe(t.config.REQUEST_TIMEOUT_MS); // Fastify's connectionTimeout: idle sockets
    expect(server.keepAliveTimeout).toBe(72_000);
  });

  it('a client that sends half a request and goes quiet is cut off (REQUEST_TIMEOUT_MS=1000)', async () => {
    const quick = await createSecurityApp({ env: { REQUEST_TIMEOUT_MS: '1000' } });
    try {
      await quick.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = quick.app.server.address() as AddressInfo;
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: '));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(Date.now() - started));
        setTimeout(() => reject(new Error('still open after 10 s')), 10_000).unref();
      });
      expect(closedAfter).toBeGreaterThanOrEqual(900);
      expect(closedAfter).toBeLessThan(5_000);
    } finally {
      await quick.close();
    }
  });
  /** Sends `head`, then `body` in `pieces` slices `everyMs` apart; resolves with what came back and when the socket closed. */
  function drip(port: number, head: string, body: Buffer, pieces: number, everyMs: number) {
    const started = Date.now();
    return new Promise<{ answer: string; closedAfter: number }>((resolve, reject) => {
      let answer = '';
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(head);
        const size = Math.ceil(body.length / pieces);
        let i = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || i >= pieces) return clearInterval(timer);
          socket.write(body.subarray(i * size, (i + 1) * size));
          i++;
        }, everyMs);
      });
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ answer, closedAfter: Date.now() - started }));
      setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after 20 s; got: ${answer.slice(0, 200)}`));
      }, 20_000).unref();
    });
  }

  describe('body deadlines (REQUEST_TIMEOUT_MS=1000, UPLOAD_TIMEOUT_MS=60000)', () => {
    let quick: SecurityApp;
    let auth: string;
    let port: number;
    beforeAll(async () => {
      quick = await createSecurityApp({ env: { REQUEST_TIMEOUT_MS: '1000', UPLOAD_TIMEOUT_MS: '60000' } });
      auth = (await quick.createUser()).auth.authorization;
      await quick.app.listen({ port: 0, host: '127.0.0.1' });
      port = (quick.app.server.address() as AddressInfo).port;
    });
    afterAll(() => quick.close());

    it('a JSON body trickled in (never idle long enough for the idle timeout) is cut off with 408 at REQUEST_TIMEOUT_MS', async () => {
      const body = Buffer.from(JSON.stringify({ name: 'trickle', description: 'x'.repeat(200) }));
      const head = `POST /api/v1/habits HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      // 40 pieces 250 ms apart: 10 s in all, each gap well under the 1 s idle timeout.
      const { answer, closedAfter } = await drip(port, head, body, 40, 250);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /); // the whole body would have taken 10 s
      expect(closedAfter).toBeGreaterThanOrEqual(900);
      expect(closedAfter).toBeLessThan(8_000);
    });

    it('an upload trickled in past REQUEST_TIMEOUT_MS is still accepted (UPLOAD_TIMEOUT_MS applies)', async () => {
      const body = multipart([{ name: 'kind', value: 'photo' }, { name: 'file', data: await png(48, 48), filename: 'p.png', contentType: 'image/png' }]);
      const head = `POST /api/v1/media HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth}\r\nContent-Type: ${body.headers['content-type']}\r\nContent-Length: ${body.payload.length}\r\nConnection: close\r\n\r\n`;
      // 10 pieces 300 ms apart: about 3 s, three times REQUEST_TIMEOUT_MS.
      const { answer, closedAfter } = await drip(port, head, body.payload, 10, 300);
      expect(answer).toMatch(/^HTTP\/1\.1 201 /);
      expect(closedAfter).toBeGreaterThan(2_500);
    });
  });
});
