// Dependencies every feature needs, injected rather than imported so tests can swap them:
// the validated config, the database and the clock (streaks, lockouts, windows and schedules are
// tested with a controllable one).
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface CoreDeps {
  config: Config;
  db: Database;
  clock: Clock;
}

declare module 'fastify' {
  interface FastifyInstance extends CoreDeps {
    /** Set once shutdown starts: readiness turns 503 while in-flight requests finish. */
    draining: boolean;
  }
}

export default fp(
  (app, deps: CoreDeps) => {
    app.decorate('config', deps.config);
    app.decorate('db', deps.db);
    app.decorate('clock', deps.clock);
    app.decorate('draining', false);
    // While draining, tell keep-alive clients to reconnect elsewhere; otherwise a connection that
    // goes idle after close() began keeps the server (and shutdown) waiting.
    app.addHook('onSend', async (_request, reply) => {
      if (app.draining) void reply.header('connection', 'close');
    });
  },
  { name: 'core' },
);
