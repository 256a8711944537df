// The application as a Fastify plugin (no listen): server.ts and the tests both use it.
// Order: ecosystem plugins, our cross-cutting plugins, then one line per feature module.
import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions, type RawServerDefault } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { loggerOptions } from './logger.js';
import core, { systemClock, type Clock } from './plugins/core.js';
import errors from './plugins/errors.js';
import auth from './plugins/auth.js';
import { loadKeySet, type KeySet } from './plugins/auth-keys.js';
import openapi from './plugins/openapi.js';
import rateLimit from './plugins/rate-limit.js';
import requestLog from './plugins/request-log.js';
import security from './plugins/security.js';
import { frameworkErrors } from './plugins/security-headers.js';
import securityCors from './plugins/security-cors.js';
import scheduler from './plugins/scheduler.js';
import monitoring from './monitoring/plugin.js';
import healthRoutes from './modules/health/routes.js';
import habitRoutes from './modules/habits/routes.js';
import challengeRoutes from './modules/challenges/routes.js';
import checkinRoutes from './modules/checkins/routes.js';
import notificationRoutes from './modules/notifications/routes.js';
import authRoutes from './modules/auth/routes.js';
import usersRoutes from './modules/users/routes.js';
import jobRoutes from './modules/jobs/routes.js';
import backupRoutes from './modules/backups/routes.js';
import alertRoutes from './modules/alerts/routes.js';
import media from './modules/media/plugin.js';

export interface AppOptions {
  config: Config;
  db: Database;
  clock?: Clock;
  keys?: KeySet;
  /** Registered after the feature modules (tests add throwing or slow routes this way). */
  extend?: (app: FastifyInstance) => void | Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function serverOptions(config: Config, logger: FastifyServerOptions['logger'] = loggerOptions(config)): FastifyServerOptions {
  const trusted = config.trustProxy.length > 0 ? config.trustProxy : false;
  return {
    logger,
    // plugins/request-log.ts writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: trusted,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Node's limit for a whole request is the longest one allowed (an upload); every other request is
    // held to REQUEST_TIMEOUT_MS by plugins/security-body-deadline.ts. Idle sockets: REQUEST_TIMEOUT_MS.
    requestTimeout: Math.max(config.REQUEST_TIMEOUT_MS, config.UPLOAD_TIMEOUT_MS),
    connectionTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: 72_000, // longer than common load balancers' idle timeout (60 s)
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrors(config), // undecodable URL, overlong parameter: same headers and problem+json
    // A client-supplied request id is believed only from a trusted proxy (§2).
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      if (trusted && typeof given === 'string' && REQUEST_ID.test(given) && isFromTrustedPeer(req, config)) return given;
      return randomUUID();
    },
    ajv: {
      customOptions: {
        // Unknown fields are an error, never silently dropped: that is what makes mass assignment
        // impossible (§5.1) and tells a client about its typo.
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: false,
      },
    },
  };
}

function isFromTrustedPeer(req: IncomingMessage, config: Config): boolean {
  // Resolved properly (CIDRs) by Fastify's trustProxy for request.ip; this only gates the id header,
  // so an exact-address match against the configured list is enough and cheap.
  const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return config.trustProxy.some((cidr) => cidr === peer || cidr === `${peer}/32` || cidr === `${peer}/128`);
}

// Wrapped with fastify-plugin so its decorations (db, clock, draining…) live on the root instance
// that server.ts and the tests hold, not on an encapsulated child.
export const app = fp(async function darezoneApp(instance: FastifyInstance, opts: AppOptions & { keys: KeySet; clock: Clock }) {
  await instance.register(core, { config: opts.config, db: opts.db, clock: opts.clock });
  await instance.register(errors);
  await instance.register(requestLog);
  await instance.register(security); // headers on every response, Host allowlist, HTTPS redirect
  await instance.register(openapi);
  await instance.register(rateLimit); // before auth: its onRequest hook limits unauthenticated floods too
  await instance.register(securityCors); // after the limiter (preflights count), before auth (they carry no token)
  await instance.register(auth, { keys: opts.keys });
  await instance.register(scheduler);
  await instance.register(monitoring); // Sentry, /metrics, alerts: before the routes so their hooks cover all

  await instance.register(healthRoutes);
  await instance.register(authRoutes, { prefix: '/api/v1/auth' });
  await instance.register(usersRoutes, { prefix: '/api/v1/users' });
  await instance.register(jobRoutes);
  await instance.register(backupRoutes);
  await instance.register(alertRoutes);
  await instance.register(habitRoutes, { prefix: '/api/v1' });
  await instance.register(challengeRoutes, { prefix: '/api/v1' });
  await instance.register(checkinRoutes, { prefix: '/api/v1' });
  await instance.register(notificationRoutes, { prefix: '/api/v1' });
  await instance.register(media); // /api/v1/media and the signed /media/files route
  if (opts.extend) await instance.register(async (scope) => opts.extend!(scope));
}, { name: 'darezone-app' });

export async function buildApp(opts: AppOptions, fastifyOptions: Partial<FastifyServerOptions> = {}) {
  const instance = Fastify<RawServerDefault>({ ...serverOptions(opts.config), ...fastifyOptions }).withTypeProvider<TypeBoxTypeProvider>();
  await instance.register(app, {
    ...opts,
    keys: opts.keys ?? loadKeySet(opts.config),
    clock: opts.clock ?? systemClock,
  });
  await instance.ready();
  return instance;
}
