// Security headers on every response (§5.1), 404/401/429/5xx problem responses and preflights
// included. The header sets are computed once at start-up and frozen; the per-request work is one
// prefix test and one `reply.headers()` call in an onRequest hook, so the headers are in place
// before any later hook (rate limit, auth) can answer, and Fastify keeps them on error responses.
// Routes that need something else set it themselves, later, and win:
//  - /docs: Swagger UI's own onSend hook replaces the CSP with the page's tight policy
//    (src/plugins/openapi.ts);
//  - /media/files/*: the media route sets its own `default-src 'none'; sandbox` CSP, cache headers
//    and Content-Disposition; here it only gets a cross-origin CORP (see docs/SECURITY.md).
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { sendProblem } from './errors.js';

/** What an API response may do in a browser: nothing (JSON is data, never a document). */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";
export const HSTS = 'max-age=31536000; includeSubDomains';

export interface SecurityHeaderSets {
  api: Readonly<Record<string, string>>;
  /** Signed media bytes, embeddable by other origins' <img>/<video> (the signature is the capability). */
  mediaFiles: Readonly<Record<string, string>>;
}

export function buildSecurityHeaders(config: Pick<Config, 'isProduction' | 'corsOrigins'>): SecurityHeaderSets {
  const common: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    // The legacy XSS auditor is gone from every current browser, and `1; mode=block` could be used
    // to make it block parts of a page on purpose (XS-Leaks); 0 turns it off where it still exists.
    'x-xss-protection': '0',
  };
  // HTTPS only in production: on a developer's http://localhost it would pin the whole host to TLS.
  if (config.isProduction) common['strict-transport-security'] = HSTS;
  // With an allowlist, a response's Access-Control-Allow-Origin depends on the Origin header, so
  // every response varies by it (a cache must not hand one origin's answer to another).
  if (config.corsOrigins.length > 0) common.vary = 'Origin';
  return {
    api: Object.freeze({
      ...common,
      'content-security-policy': API_CSP,
      'cross-origin-resource-policy': 'same-origin',
      // Personal data: no shared or browser cache may keep it. Routes with their own policy override.
      'cache-control': 'no-store',
    }),
    // The route replaces the CSP with `default-src 'none'; sandbox` when it serves bytes; its errors keep this one.
    mediaFiles: Object.freeze({ ...common, 'content-security-policy': API_CSP, 'cross-origin-resource-policy': 'cross-origin' }),
  };
}

const MEDIA_FILES = '/media/files/';

export default fp(
  (app) => {
    const sets = buildSecurityHeaders(app.config);
    app.addHook('onRequest', async (request, reply) => {
      void reply.headers(request.url.startsWith(MEDIA_FILES) ? sets.mediaFiles : sets.api);
    });
  },
  { name: 'security-headers', dependencies: ['core'] },
);

/**
 * Fastify answers a URL it cannot decode (`%E0%A4%A`) or a path parameter over maxParamLength
 * before routing, so no hook runs: this `frameworkErrors` server option gives those answers the
 * same headers, request id and problem+json shape as every other response.
 */
export function frameworkErrors(config: Pick<Config, 'isProduction' | 'corsOrigins'>) {
  const { api } = buildSecurityHeaders(config);
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    void reply.headers(api).header('x-request-id', request.id);
    const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long' : 'The URL is not valid';
    void sendProblem(request, reply, new AppError('MALFORMED_REQUEST', detail));
  };
}
