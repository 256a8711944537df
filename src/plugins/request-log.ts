// One JSON line per request: id, method, route template (bounded, no ids), path, status, duration.
import fp from 'fastify-plugin';

export default fp(
  (app) => {
    app.addHook('onRequest', async (request, reply) => {
      void reply.header('x-request-id', request.id);
    });
    app.addHook('onResponse', async (request, reply) => {
      const status = reply.statusCode;
      const level = status >= 500 ? 'error' : 'info';
      request.log[level](
        {
          method: request.method,
          route: request.routeOptions.url ?? 'not_found',
          path: request.url.split('?')[0],
          status,
          duration_ms: Math.round(reply.elapsedTime * 100) / 100,
          ip: request.ip,
        },
        'request completed',
      );
    });
  },
  { name: 'request-log' },
);
