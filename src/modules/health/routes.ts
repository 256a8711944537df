import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { readiness } from './service.js';

const Check = Type.Object({ status: Type.Union([Type.Literal('pass'), Type.Literal('fail')]), duration_ms: Type.Number(), error: Type.Optional(Type.String()) });
const Ready = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  checks: Type.Record(Type.String(), Check),
  failing: Type.Array(Type.String()),
});

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { tags: ['health'], security: [] };
  app.get('/health/live', {
    config: { public: true },
    schema: { ...common, summary: 'Process is up (no dependencies checked)', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/health/ready', {
    config: { public: true },
    schema: { ...common, summary: 'Ready to serve traffic', response: { 200: Ready, 503: Ready } },
  }, async (_request, reply) => {
    const result = await readiness(app);
    return reply.code(result.status === 'ok' ? 200 : 503).send(result);
  });

  app.get('/health', {
    config: { public: true },
    schema: {
      ...common,
      summary: 'Readiness in a form an uptime monitor keyword check reads ("status":"ok")',
      response: { 200: Ready, 503: Ready },
    },
  }, async (_request, reply) => {
    const result = await readiness(app);
    return reply.code(result.status === 'ok' ? 200 : 503).send(result);
  });
};

export default healthRoutes;
