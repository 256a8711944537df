// Monitoring in one registration (docs/MONITORING.md): error tracking (Sentry), GET /metrics
// (Prometheus) and the in-process alerts with their heartbeat. Registered before the feature
// routes so its hooks cover every route.
import fp from 'fastify-plugin';
import alerts from '../alerts/plugin.js';
import metrics from '../plugins/metrics.js';
import sentry from '../plugins/sentry.js';

export default fp(
  async (app) => {
    await app.register(sentry);
    await app.register(metrics);
    await app.register(alerts);
  },
  { name: 'monitoring', dependencies: ['core', 'errors', 'rate-limit', 'scheduler'] },
);
