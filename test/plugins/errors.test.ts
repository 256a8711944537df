import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { AppError } from '../../src/errors.js';

let t: TestContext;
let token: string;

beforeAll(async () => {
  t = await createTestApp({
    extend: (app) => {
      app.get('/boom', async () => {
        throw new Error('secret internal detail at /srv/app/db.ts: select * from users');
      });
      app.get('/domain', async () => {
        throw new AppError('CHALLENGE_FULL', 'This challenge has no free places');
      });
      app.post(
        '/strict',
        {
          schema: {
            body: Type.Object(
              { name: Type.String({ minLength: 3, maxLength: 10 }), count: Type.Optional(Type.Integer({ maximum: 5 })) },
              { additionalProperties: false },
            ),
          },
        },
        async () => ({ ok: true }),
      );
    },
  });
  token = (await t.users.create()).token;
});
afterAll(() => t.close());

const auth = () => ({ authorization: `Bearer ${token}` });

describe('problem+json error model', () => {
  it('unknown route → 404 problem+json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const body = res.json();
    expect(body).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND', instance: '/api/v1/nope', title: 'Route not found' });
    expect(body.request_id).toBe(res.headers['x-request-id']);
    expect(body.type).toMatch(/^urn:darezone:problem:/);
  });

  it('malformed JSON → 400', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/strict', headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"name": "abc",' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'MALFORMED_REQUEST', status: 400 });
  });

  it('unknown field → 400 naming the field; bad value → 422 with errors[] paths', async () => {
    const extra = await t.app.inject({ method: 'POST', url: '/strict', headers: auth(), payload: { name: 'abcd', role: 'admin' } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().errors).toEqual([{ path: 'body.role', message: 'unknown field' }]);

    const short = await t.app.inject({ method: 'POST', url: '/strict', headers: auth(), payload: { name: 'ab' } });
    expect(short.statusCode).toBe(422);
    expect(short.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body.name' }] });

    const missing = await t.app.inject({ method: 'POST', url: '/strict', headers: auth(), payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0].path).toBe('body.name');
  });

  it('domain errors keep their code and status', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/domain', headers: auth() });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'CHALLENGE_FULL', detail: 'This challenge has no free places' });
  });

  it('an unexpected exception → 500 with request id and nothing internal', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/boom', headers: auth() });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body.code).toBe('INTERNAL');
    expect(body.request_id).toMatch(/[0-9a-f-]{36}/);
    expect(res.body).not.toMatch(/secret|select|\/srv|db\.ts|stack|at /i);
  });

  it('prototype-pollution keys → 400', async () => {
    for (const payload of ['{"__proto__": {"admin": true}, "name": "abcd"}', '{"constructor": {"prototype": {"x": 1}}, "name": "abcd"}']) {
      const res = await t.app.inject({ method: 'POST', url: '/strict', headers: { ...auth(), 'content-type': 'application/json' }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
  });
});
