// CORS (§5.1): an exact allowlist (CORS_ORIGINS), empty by default — the mobile app is not a
// browser page and needs none. An allowed Origin is echoed exactly (never `*`), with
// `Vary: Origin` (security-headers.ts adds it to every response when the list is non-empty).
// Credentials mode is never enabled: the API authenticates with a bearer token, not cookies, so
// there is nothing a browser would attach on its own.
// Two hooks, at two places in the chain:
//  - `corsOrigin` (inside plugins/security.ts, before the rate limiter and auth) echoes an allowed
//    origin, so a dashboard can read every answer, a 429's Retry-After or a 401 included;
//  - the default export (registered after the rate limiter, which counts preflights like any other
//    request, and before auth: a browser never sends a token with one) answers preflights. A
//    disallowed origin's preflight gets a 204 without any Access-Control-* header, which the browser
//    treats as a refusal.
import fp from 'fastify-plugin';

export const CORS_ALLOW_METHODS = 'GET, HEAD, POST, PATCH, DELETE';
export const CORS_ALLOW_HEADERS = 'authorization, content-type';
export const CORS_EXPOSE_HEADERS = 'x-request-id, retry-after, ratelimit, ratelimit-policy, www-authenticate, content-disposition';
const PREFLIGHT_MAX_AGE = '600';

export const corsOrigin = fp(
  (app) => {
    const origins = new Set(app.config.corsOrigins);
    if (origins.size === 0) return; // the default: no hook, no cost
    const exposed = { 'access-control-expose-headers': CORS_EXPOSE_HEADERS };
    app.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      if (origin === undefined || !origins.has(origin)) return;
      void reply.header('access-control-allow-origin', origin);
      if (request.method !== 'OPTIONS') void reply.headers(exposed);
    });
  },
  { name: 'security-cors-origin', dependencies: ['core'] },
);

export default fp(
  (app) => {
    const origins = new Set(app.config.corsOrigins);
    const preflight = Object.freeze({
      'access-control-allow-methods': CORS_ALLOW_METHODS,
      'access-control-allow-headers': CORS_ALLOW_HEADERS,
      'access-control-max-age': PREFLIGHT_MAX_AGE,
    });
    app.addHook('onRequest', async (request, reply) => {
      if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined) return;
      const origin = request.headers.origin;
      if (origin !== undefined && origins.has(origin)) void reply.headers(preflight);
      return reply.code(204).send();
    });
  },
  { name: 'security-cors', dependencies: ['core', 'security-cors-origin'] },
);
