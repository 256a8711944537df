// Security headers, the CORS origin echo, the production transport checks, input hygiene and body deadlines (§5.1), registered
// right after request-log so even a redirect or a refused Host carries x-request-id and the
// security headers. Preflights are answered by security-cors.ts, registered after the rate limiter.
import fp from 'fastify-plugin';
import bodyDeadline from './security-body-deadline.js';
import { corsOrigin } from './security-cors.js';
import headers from './security-headers.js';
import input from './security-input.js';
import transport from './security-transport.js';

export default fp(
  async (app) => {
    await app.register(headers);
    await app.register(corsOrigin);
    await app.register(transport);
    await app.register(input);
    await app.register(bodyDeadline);
    // JSON only (§2): Fastify also parses text/plain by default, which would let a body in the wrong
    // media type reach routes (and CSRF-able "simple" requests reach body-less POSTs). Now 415.
    app.removeContentTypeParser('text/plain');
  },
  { name: 'security', dependencies: ['core', 'errors', 'request-log'] },
);
