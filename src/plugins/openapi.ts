// The OpenAPI document is generated from the route schemas (one declaration: validation,
// serialization and docs). /docs serves Swagger UI from local files (no CDN), under its own CSP.
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import { APP_VERSION } from '../version.js';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);

export default fp(
  async (app) => {
    app.addSchema(ProblemSchema);
    // Every route documents its problem responses without each route repeating them.
    app.addHook('onRoute', (route) => {
      // The reference UI and its assets are public by design (§5.1 public list: docs, openapi).
      if (route.url.startsWith('/docs')) route.config = { ...route.config, public: true };
      if (route.schema?.hide) return;
      const schema = (route.schema ??= {});
      const response = (schema.response ??= {}) as Record<string, unknown>;
      response['4xx'] ??= { $ref: 'Problem#' };
      response['5xx'] ??= { $ref: 'Problem#' };
    });
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'DareZone API',
          version: APP_VERSION,
          description: 'Backend API of the DareZone habit-building app. Errors are RFC 9457 problem+json.',
        },
        servers: [{ url: '/' }],
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearer: [] }],
      },
      refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { deepLinking: true },
      staticCSP: true,
      transformStaticCSP: () =>
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      uiHooks: {},
      logLevel: 'warn',
    });
    app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, () => app.swagger());
  },
  { name: 'openapi', dependencies: ['errors'] },
);
