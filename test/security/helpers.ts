// The security suite's app: the real app on a fresh database, with
//  - the whole route table collected (an onRoute hook on the root before anything registers, as in
//    test/plugins/auth.test.ts), so tests are generated from the routes rather than a list;
//  - the app's real logger (with redaction) writing into memory at trace level, and every secret
//    the test hands out (passwords, access and refresh tokens, Authorization values) remembered, so
//    `expectNoSecretsLogged()` can grep the file's whole log output for them (§5.1 Secrets).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance, type HTTPMethods, type RouteOptions } from 'fastify';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { app as darezoneApp, serverOptions } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { loadKeySet, signAccessToken, type KeySet } from '../../src/plugins/auth-keys.js';
import type { Database } from '../../src/db/database.js';
import { TEST_PASSWORD, TEST_PASSWORD_HASH, testConfig } from '../helpers/app.js';
import { TestClock } from '../helpers/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { captureLogs } from '../helpers/log-capture.js';

export interface Route {
  method: HTTPMethods;
  url: string;
  options: RouteOptions;
}

export interface SecUser {
  id: string;
  email: string;
  password: string;
  token: string;
  auth: { authorization: string };
}

export interface SecurityApp {
  app: FastifyInstance;
  db: Database;
  config: Config;
  clock: TestClock;
  keys: KeySet;
  routes: Route[];
  logs: string[];
  /** Remember a value that must never appear in a log line. */
  secret(value: string): void;
  createUser(opts?: { displayName?: string; role?: 'user' | 'admin'; email?: string }): Promise<SecUser>;
  expectNoSecretsLogged(): void;
  close(): Promise<void>;
}

export const label = (r: { method: string; url: string }) => `${r.method} ${r.url}`;
export const isPublic = (r: Route) => r.options.config?.public === true;
export const hasBody = (method: string) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method);

export async function createSecurityApp(
  opts: { env?: Record<string, string>; clock?: TestClock; extend?: (app: FastifyInstance) => void | Promise<void> } = {},
): Promise<SecurityApp> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'darezone-security-'));
  const database: TestDatabase = await createTestDatabase();
  const config = testConfig({ DATA_DIR: dataDir, ...opts.env });
  const keys = loadKeySet(config);
  const clock = opts.clock ?? new TestClock();
  const capture = captureLogs();
  const routes: Route[] = [];
  const secrets = new Set<string>([TEST_PASSWORD]);
  const app = Fastify(serverOptions(config, capture.logger));
  app.addHook('onRoute', (options) => {
    for (const method of ([] as HTTPMethods[]).concat(options.method)) routes.push({ method, url: options.url, options });
  });
  await app.register(darezoneApp, { config, db: database.db, keys, clock, extend: opts.extend });
  await app.ready();

  let counter = 0;
  const secret = (value: string) => {
    if (value) secrets.add(value);
  };
  return {
    app,
    db: database.db,
    config,
    clock,
    keys,
    routes,
    logs: capture.lines,
    secret,
    async createUser(o = {}) {
      const id = randomUUID();
      counter++;
      const email = o.email ?? `sec${counter}-${id.slice(0, 8)}@example.test`;
      const role = o.role ?? 'user';
      await database.db.withSystem(async (tx) => {
        await tx.execute(sql`insert into users (id, email, password_hash, role) values (${id}, ${email}, ${TEST_PASSWORD_HASH}, ${role})`);
        await tx.execute(sql`insert into user_profiles (user_id, display_name) values (${id}, ${o.displayName ?? `Sec User ${counter}`})`);
      });
      // Long-lived enough for a whole file, however long the matrix takes.
      const token = await signAccessToken(keys, { sub: id, role, sid: randomUUID() }, 3600, clock.now());
      secret(token);
      secret(`Bearer ${token}`);
      return { id, email, password: TEST_PASSWORD, token, auth: { authorization: `Bearer ${token}` } };
    },
    expectNoSecretsLogged() {
      expect(capture.lines.length, 'the log capture saw the traffic').toBeGreaterThan(0);
      const text = capture.lines.join('\n');
      const leaked = [...secrets].filter((s) => text.includes(s)).map((s) => `${s.slice(0, 6)}… (${s.length} chars)`);
      expect(leaked, 'secrets found in the log output').toEqual([]);
      // Any bearer value at all, and the JSON shapes that would carry credentials.
      expect(text).not.toMatch(/Bearer [A-Za-z0-9_-]{10,}/);
      expect(text).not.toMatch(/"(password|current_password|new_password|access_token|refresh_token|authorization)":"(?!\[redacted\])/i);
    },
    async close() {
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Path parameters replaced from `values` (by name), else a fresh UUID; wildcards a plain segment. */
export function fillPath(url: string, values: Record<string, string> = {}): string {
  return url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_m, name: string) => values[name] ?? randomUUID()).replace(/\*/g, 'x');
}

/** Sends an inject and records any token a response hands out as a secret. */
export async function capturingTokens(t: SecurityApp, res: { body: string; headers: Record<string, unknown> }) {
  const type = res.headers['content-type'];
  if (typeof type !== 'string' || !type.includes('json') || !res.body) return;
  try {
    const body = JSON.parse(res.body) as Record<string, unknown>;
    for (const key of ['access_token', 'refresh_token']) if (typeof body[key] === 'string') t.secret(body[key]);
  } catch {
    // not JSON after all
  }
}

// ---------------------------------------------------------------------------------------------
// Route schemas: what a request may carry, read from the same declarations that validate it.

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  additionalProperties?: boolean | JsonSchema;
};

export function routeSchema(r: Route, part: 'body' | 'querystring' | 'params'): JsonSchema | undefined {
  return (r.options.schema as Record<string, JsonSchema> | undefined)?.[part];
}

const primaryType = (s: JsonSchema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);

/** A valid example value for a schema (the first branch of a union, the minimum of a range). */
export function sample(schema: JsonSchema, values: Record<string, string> = {}, name = ''): unknown {
  if (name && values[name] !== undefined) return values[name];
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const branch = schema.anyOf ?? schema.oneOf;
  if (branch) return sample(branch.find((b) => b.type !== 'null') ?? branch[0]!, values, name);
  switch (primaryType(schema)) {
    case 'string':
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'date') return '2026-06-20';
      if (schema.format === 'date-time') return '2026-06-20T10:00:00.000Z';
      if (schema.pattern === '^[a-z_.]{1,100}$') return 'challenges.auto_complete';
      return 'abc'.padEnd(Math.max(3, schema.minLength ?? 0), 'x').slice(0, schema.maxLength ?? 1000);
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items ?? {}, values));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) out[key] = sample(schema.properties?.[key] ?? {}, values, key);
      return out;
    }
    default:
      return null;
  }
}

/** Every string-typed property of an object schema (one level: request bodies and queries are flat). */
export function stringFields(schema: JsonSchema | undefined): string[] {
  if (!schema?.properties) return [];
  const isString = (s: JsonSchema): boolean =>
    primaryType(s) === 'string' || Boolean((s.anyOf ?? s.oneOf)?.some((b) => primaryType(b) === 'string' && b.const === undefined));
  return Object.entries(schema.properties)
    .filter(([, s]) => isString(s) && s.const === undefined && !s.enum)
    .map(([k]) => k);
}

/** The route's URL with every path parameter filled: from `values` by name, else a valid sample. */
export function concreteUrl(r: Route, values: Record<string, string> = {}): string {
  const params = routeSchema(r, 'params')?.properties ?? {};
  const filled: Record<string, string> = {};
  for (const [name, schema] of Object.entries(params)) filled[name] = values[name] ?? String(sample(schema));
  return fillPath(r.url, { ...filled, ...values });
}
