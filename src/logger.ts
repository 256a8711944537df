// Log lines are JSON (pino). Secrets never reach them: bodies are not logged at all, and these paths
// are redacted wherever an object carrying them is logged (test/plugins/logging.test.ts checks).
import type { FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';

const SECRET_KEYS = [
  'password',
  'current_password',
  'new_password',
  'password_hash',
  'access_token',
  'refresh_token',
  'token',
  'secret',
  'authorization',
  'cookie',
  'api_key',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
];

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'darezone-api' },
    serializers: {
      // Path only: a query string could carry something a client should not have put there.
      req: (req: { method: string; url: string }) => ({ method: req.method, path: req.url.split('?')[0] }),
    },
  };
}
