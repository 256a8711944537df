import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { captureLogs } from '../helpers/log-capture.js';

const capture = captureLogs();
let t: TestContext;

beforeAll(async () => {
  t = await createTestApp({
    fastify: { logger: capture.logger },
    extend: (app) => {
      app.post('/echo-fail', async (request) => {
        request.log.info({ body: request.body, headers: request.headers }, 'handler saw the request');
        throw new Error('boom');
      });
    },
  });
});
afterAll(() => t.close());

it('request logs carry id, method, route template, status and duration but never the bearer token or password', async () => {
  const bearer = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ';
  const password = 'Hunter2-very-secret-pass';
  const user = await t.users.create();
  await t.app.inject({
    method: 'POST',
    url: '/echo-fail',
    headers: { authorization: `Bearer ${bearer}`, cookie: `sid=${password}` },
    payload: { email: 'a@b.c', password, nested: { refresh_token: password } },
  });
  await t.app.inject({ method: 'POST', url: '/echo-fail', headers: user.auth, payload: { password, new_password: password } });

  const text = capture.lines.join('\n');
  expect(text).not.toContain(bearer);
  expect(text).not.toContain(user.token);
  expect(text).not.toContain(password);

  const completed = capture.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed');
  expect(completed.length).toBeGreaterThanOrEqual(2);
  expect(completed.at(-1)).toMatchObject({ method: 'POST', route: '/echo-fail', status: 500 });
  expect(typeof completed.at(-1).reqId).toBe('string');
  expect(typeof completed.at(-1).duration_ms).toBe('number');
  expect(text).toContain('[redacted]');
});
