// The in-process alerting (§5.3), so a one-machine install needs nothing else: this instance's
// request window (fed by an onResponse hook), the rule evaluation ticker, the e-mail/Slack channels,
// and the dead man's switch (HEARTBEAT_URL pinged after each successful challenges.auto_complete,
// the daily 00:05 UTC job: if the scheduler, the database or the whole deployment stops, the pings
// stop and the external monitor alerts).
import fp from 'fastify-plugin';
import { jobEvents, type RunFinished } from '../jobs/runner.js';
import { readiness } from '../modules/health/service.js';
import { Delivery, emailChannel, ping, slackChannel, type Channel } from './delivery.js';
import { AlertManager } from './manager.js';
import { RequestWindow } from './request-window.js';

export const HEARTBEAT_JOB = 'challenges.auto_complete';

// Probes and scrapes are not user traffic: a failing readiness probe has its own alert, and must
// not also show up as a 5xx ratio.
const UNCOUNTED_ROUTES = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

export interface Alerting {
  manager: AlertManager;
  window: RequestWindow;
  delivery: Delivery;
  channels: Channel[];
}

declare module 'fastify' {
  interface FastifyInstance {
    alerting: Alerting;
  }
}

export default fp(
  (app) => {
    const { config, clock } = app;
    const log = app.log.child({ component: 'alerts' });
    const window = new RequestWindow(config.ALERT_HTTP_WINDOW_MINUTES);
    const delivery = new Delivery(log, { attempts: config.ALERT_DELIVERY_ATTEMPTS, firstDelayMs: config.ALERT_DELIVERY_RETRY_MS });
    const channels = [emailChannel(config), slackChannel(config)].filter((c): c is Channel => c !== undefined);
    const manager = new AlertManager({
      db: app.db,
      clock,
      config,
      log,
      instance: app.scheduler.instance,
      channels,
      delivery,
      context: {
        window: () => window.summary(clock.now()),
        failingChecks: async () => (await readiness(app)).failing.filter((name) => name !== 'shutdown'),
        jobNames: () => app.scheduler.list().map((j) => j.def.name),
      },
    });
    app.decorate('alerting', { manager, window, delivery, channels });

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url;
      if (route !== undefined && UNCOUNTED_ROUTES.has(route)) return;
      window.record(clock.now(), reply.statusCode, reply.elapsedTime);
    });

    const heartbeatUrl = config.HEARTBEAT_URL;
    const onJob = (run: RunFinished) => {
      if (!heartbeatUrl || run.job !== HEARTBEAT_JOB || run.status !== 'success') return;
      delivery.enqueue({ channel: 'heartbeat', job: run.job }, () => ping(heartbeatUrl));
    };
    jobEvents.on('finished', onJob);

    if (config.alertsEnabled) app.addHook('onReady', async () => manager.start());
    app.addHook('onClose', async () => {
      jobEvents.off('finished', onJob);
      await manager.stop();
      await delivery.close();
    });
  },
  { name: 'alerts', dependencies: ['core', 'scheduler'] },
);
