// Listen and shut down gracefully. SIGTERM/SIGINT: readiness turns 503 (load balancers stop sending;
// SHUTDOWN_DRAIN_DELAY_MS gives them time to notice), Fastify stops accepting, in-flight requests finish within SHUTDOWN_TIMEOUT_MS, the database closes
// and the DATA_DIR lock is released; exit 0. Past the timeout: exit 1 rather than hang forever.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from './app.js';
import { loadConfig, type Config } from './config.js';
import { openDatabase } from './db/open.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(config: Config = loadConfig(), extend?: AppOptions['extend']): Promise<RunningServer> {
  const opened = await openDatabase(config);
  let app: FastifyInstance;
  try {
    app = await buildApp({ config, db: opened.db, extend });
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (err) {
    await opened.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    app,
    url,
    stop() {
      stopping ??= (async () => {
        app.draining = true;
        if (config.SHUTDOWN_DRAIN_DELAY_MS > 0) await sleep(config.SHUTDOWN_DRAIN_DELAY_MS);
        try {
          await app.close();
        } finally {
          await opened.close();
        }
      })();
      return stopping;
    },
  };
}

export function handleSignals(server: RunningServer, timeoutMs: number): void {
  const onSignal = (signal: NodeJS.Signals) => {
    server.app.log.info({ signal }, 'shutting down: draining in-flight requests');
    const timer = setTimeout(() => {
      server.app.log.error({ timeout_ms: timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    server.stop().then(
      () => {
        server.app.log.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
