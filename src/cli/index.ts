// The `darezone` command. Every command but `smoke` (a client of any deployment) shares the server's
// config validation; every command exits non-zero with a one-line reason on failure (no stack
// traces for operator errors).
import { Command } from 'commander';
import { loadConfig, loadDotEnv } from '../config.js';
import { openDatabase } from '../db/open.js';
import { migrate } from '../db/migrate.js';
import { handleSignals, startServer } from '../server.js';
import { registerJobsCommand } from './jobs.js';
import { APP_VERSION } from '../version.js';
import { registerCreateAdminCommand } from './create-admin.js';
import { registerBackupCommand } from './backup.js';
import { registerSmokeCommand } from './smoke.js';

export function fail(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`darezone: ${message.split('\n')[0]}`);
  process.exit(1);
}

const program = new Command('darezone').version(APP_VERSION).description('DareZone API server and operations');

program
  .command('serve')
  .description('start the API server (embedded PGlite unless DATABASE_URL is set)')
  .action(async () => {
    const config = loadConfig();
    const server = await startServer(config);
    handleSignals(server, config.SHUTDOWN_TIMEOUT_MS + config.SHUTDOWN_DRAIN_DELAY_MS);
    server.app.log.info({ url: server.url, engine: server.app.db.engine }, 'DareZone API listening');
  });

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async () => {
    const config = loadConfig();
    const opened = await openDatabase(config, { migrate: false });
    try {
      const applied = await migrate(opened.db.driver);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    } finally {
      await opened.close();
    }
  });

registerJobsCommand(program);
registerCreateAdminCommand(program);
registerBackupCommand(program);
registerSmokeCommand(program);

export async function main(argv = process.argv): Promise<void> {
  loadDotEnv();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    fail(err);
  }
}

await main();
