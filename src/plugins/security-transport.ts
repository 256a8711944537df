// Production transport (§5.1): a Host outside ALLOWED_HOSTS is refused, and in production a request
// that reached the proxy over plain HTTP is redirected to HTTPS. `request.protocol` and
// `request.host` believe X-Forwarded-Proto / X-Forwarded-Host only from a TRUST_PROXY peer
// (Fastify's trustProxy), so a client cannot talk its way past either check.
// Health probes are exempt from both: load balancers probe instances over plain HTTP by their
// internal address, and a probe that gets a redirect or a 400 takes a healthy instance out.
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

export const isHealthProbe = (url: string) => url === '/health' || url.startsWith('/health/') || url.startsWith('/health?');

/** The host name of a Host header value: lower-cased, port removed, IPv6 brackets kept. */
export function hostName(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export default fp(
  (app) => {
    const { config } = app;
    const allowed = new Set(config.allowedHosts);
    const redirect = config.isProduction;
    if (allowed.size === 0 && !redirect) return; // nothing to enforce: no hook, no cost
    if (allowed.size === 0) app.log.warn('ALLOWED_HOSTS is empty: any Host header is answered (set it in production)');

    app.addHook('onRequest', async (request, reply) => {
      if (isHealthProbe(request.url)) return;
      const host = request.host;
      if (allowed.size > 0 && !allowed.has(hostName(host))) {
        // 400 as RFC 9112 §3.2 asks for a bad Host; the value is not echoed (it is attacker-chosen).
        throw new AppError('MALFORMED_REQUEST', 'This host name is not served here');
      }
      if (redirect && request.protocol !== 'https') {
        // 308 keeps the method and body (a POST stays a POST); the client should not have sent
        // credentials over plain HTTP, and HSTS makes browsers stop doing so after the first visit.
        return reply.code(308).header('location', `https://${host}${request.url}`).send();
      }
    });
  },
  { name: 'security-transport', dependencies: ['core', 'errors'] },
);
