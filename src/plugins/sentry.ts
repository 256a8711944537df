// Error tracking (§5.3): with SENTRY_DSN set, 5xx request errors and failed or timed-out job runs
// go to Sentry with release (darezone-api@<version>) and environment (APP_ENV); 4xx are the
// client's business and never reported. Every event passes plugins/sentry-scrub.ts first.
//
// Why a client per app instead of Sentry.init(): init() is process-global (one DSN, global scope,
// OpenTelemetry and process-wide handlers), so two apps in one process (tests, the two-instance
// tests) would share and break each other. A NodeClient bound to a Scope of our own needs no global
// state: it is created with the app, captures through that scope and is flushed and closed with it.
// What this gives up: the SDK's automatic instrumentation (HTTP/pg spans, uncaught-exception
// handlers). Process crashes are logged and restarted by the supervisor; request and job errors,
// which is what §5.3 asks for, are captured here. SENTRY_TRACES_SAMPLE_RATE is passed through for
// spans started explicitly; without the global instrumentation no request spans are created.
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { NodeClient, Scope, defaultStackParser, makeNodeTransport } from '@sentry/node';
import { jobEvents, type RunFinished } from '../jobs/runner.js';
import { APP_VERSION } from '../version.js';
import { toAppError } from './errors.js';
import { scrubBreadcrumb, scrubEvent } from './sentry-scrub.js';

export interface ErrorTracking {
  readonly enabled: boolean;
  captureRequestError(error: unknown, request: FastifyRequest): void;
  captureJobFailure(run: RunFinished): void;
  /** Waits until queued events are sent (tests, shutdown). */
  flush(timeoutMs?: number): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    errorTracking: ErrorTracking;
  }
}

export const SENTRY_RELEASE = `darezone-api@${APP_VERSION}`;
const FLUSH_ON_CLOSE_MS = 2000;

class JobRunError extends Error {
  constructor(run: RunFinished) {
    super(`job ${run.job} ${run.status}: ${run.error ?? 'no error recorded'}`);
    this.name = run.status === 'timed_out' ? 'JobTimedOut' : 'JobFailed';
  }
}

const disabled: ErrorTracking = {
  enabled: false,
  captureRequestError: () => undefined,
  captureJobFailure: () => undefined,
  flush: async () => true,
};

export default fp(
  (app) => {
    const { config } = app;
    if (!config.SENTRY_DSN) {
      app.decorate('errorTracking', disabled);
      return;
    }
    const client = new NodeClient({
      dsn: config.SENTRY_DSN,
      release: SENTRY_RELEASE,
      environment: config.APP_ENV,
      tracesSampleRate: config.SENTRY_TRACES_SAMPLE_RATE,
      sendClientReports: false,
      integrations: [],
      transport: makeNodeTransport,
      stackParser: defaultStackParser,
      beforeSend: (event) => scrubEvent(event),
      beforeBreadcrumb: (crumb) => scrubBreadcrumb(crumb),
    });
    const scope = new Scope();
    scope.setClient(client);
    client.init();

    const tracking: ErrorTracking = {
      enabled: true,
      captureRequestError(error, request) {
        const s = scope.clone();
        s.setTag('route', request.routeOptions.url ?? 'not_found');
        s.setTag('request_id', request.id);
        if (request.user?.id) s.setUser({ id: request.user.id });
        // Method, path and headers only: the body and the query string are never sent (and the
        // headers still go through the scrubber, which removes authorization and cookies).
        const req = { method: request.method, url: request.url.split('?')[0], headers: { ...request.headers } as Record<string, string> };
        s.addEventProcessor((event) => ({ ...event, request: req }));
        s.captureException(error);
      },
      captureJobFailure(run) {
        const s = scope.clone();
        s.setTags({ job: run.job, job_status: run.status, trigger: run.trigger });
        s.setFingerprint(['job-run', run.job, run.status]);
        s.setExtras({ run_id: run.runId, duration_ms: Math.round(run.durationMs) });
        s.captureException(new JobRunError(run));
      },
      flush: (timeoutMs = FLUSH_ON_CLOSE_MS) => Promise.resolve(client.flush(timeoutMs)),
    };
    app.decorate('errorTracking', tracking);

    app.addHook('onError', async (request, _reply, error) => {
      const known = toAppError(error);
      if (!known || known.status >= 500) tracking.captureRequestError(error, request);
    });
    const onJob = (run: RunFinished) => {
      if (run.status === 'failed' || run.status === 'timed_out') tracking.captureJobFailure(run);
    };
    jobEvents.on('finished', onJob);
    app.addHook('onClose', async () => {
      jobEvents.off('finished', onJob);
      await client.close(FLUSH_ON_CLOSE_MS);
    });
  },
  { name: 'sentry', dependencies: ['core', 'errors'] },
);
