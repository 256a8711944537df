import { afterAll, beforeAll, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createTestApp, type TestContext } from '../helpers/app.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

it('GET /openapi.json is a valid OpenAPI 3.1 document', async () => {
  const res = await t.app.inject({ url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  const doc = res.json();
  expect(doc.openapi).toBe('3.1.0');
  const validator = new Validator();
  const result = await validator.validate(doc);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(Object.keys(doc.paths)).toContain('/health/ready');
});

it('/docs serves the interactive reference without a token, under a tight CSP', async () => {
  const res = await t.app.inject({ url: '/docs/' });
  const page = res.statusCode === 302 ? await t.app.inject({ url: res.headers.location as string }) : res;
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toMatch(/text\/html/);
  expect(page.body).toMatch(/swagger/i);
});
