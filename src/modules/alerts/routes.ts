// Platform-admin alert history (§5.3): firing and resolved alerts, newest first.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AlertsPage, AlertsQuery } from './schemas.js';
import { alertHistory } from './service.js';

const alertRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/v1/admin/alerts', {
    config: { admin: true },
    schema: {
      tags: ['admin'],
      summary: 'Alert history, newest first (filter by status or rule)',
      description: 'One row per firing episode: fired_at, last_notified_at (reminders), resolved_at. Platform admins only.',
      querystring: AlertsQuery,
      response: { 200: AlertsPage },
    },
  }, async (request) => alertHistory(app, request.query));
};

export default alertRoutes;
