// Slow-body protection per route. Node's `requestTimeout` is one value for the whole server, but a
// 50 MB video over a mobile link needs minutes while a 1 MiB JSON body needs seconds: the server
// limit is UPLOAD_TIMEOUT_MS and this hook holds every other request with a body to
// REQUEST_TIMEOUT_MS, from the start of the request until its body has been parsed. A client still
// sending when the deadline passes is answered 408 and disconnected, as Node itself would.
// Headers never get the upload allowance: headersTimeout = REQUEST_TIMEOUT_MS (Node's default
// would be min(60 s, requestTimeout)).
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The body is a long upload read by the handler: bounded by UPLOAD_TIMEOUT_MS instead. */
    longBody?: boolean;
  }
}

const deadlines = new WeakMap<FastifyRequest, NodeJS.Timeout>();

function hasBody(request: FastifyRequest): boolean {
  const { headers } = request.raw;
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

function clear(request: FastifyRequest): void {
  const timer = deadlines.get(request);
  if (timer) clearTimeout(timer);
  deadlines.delete(request);
}

export default fp(
  (app) => {
    const limit = app.config.REQUEST_TIMEOUT_MS;
    app.server.headersTimeout = Math.min(limit, app.server.requestTimeout);
    if (app.config.UPLOAD_TIMEOUT_MS <= limit) return; // Node's own requestTimeout already is the limit
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config.longBody || !hasBody(request)) return;
      const timer = setTimeout(() => {
        deadlines.delete(request);
        const { socket } = request.raw;
        if (request.raw.complete || socket.destroyed) return;
        // The same bytes Node writes when its requestTimeout fires, then the connection is dropped.
        socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
        socket.destroySoon();
      }, limit);
      timer.unref();
      deadlines.set(request, timer);
    });
    app.addHook('preValidation', async (request) => clear(request));
    app.addHook('onResponse', async (request) => clear(request));
    app.addHook('onRequestAbort', async (request) => clear(request));
  },
  { name: 'security-body-deadline', dependencies: ['core'] },
);
