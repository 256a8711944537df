// `darezone jobs list|run NAME`: the same registry and run recording as the server's scheduler.
// In embedded mode this needs DATA_DIR to itself; while the server runs, use the admin API
// (POST /api/v1/admin/jobs/NAME/run) instead — the lock error says so.
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/open.js';
import { lastRuns } from '../jobs/repository.js';
import { JOBS } from '../jobs/registry.js';
import { JobBusyError, Scheduler } from '../jobs/scheduler.js';
import { systemClock } from '../plugins/core.js';

async function withScheduler<T>(fn: (s: Scheduler, opened: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const opened = await openDatabase(config);
  try {
    const log = pino({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
    const scheduler = new Scheduler({ db: opened.db, clock: systemClock, log, jobs: JOBS, overrides: config.jobSchedules });
    return await fn(scheduler, opened);
  } finally {
    await opened.close();
  }
}

export function registerJobsCommand(program: Command): void {
  const jobs = program.command('jobs').description('scheduled jobs');
  jobs
    .command('list')
    .description('one job a line: name, schedule (UTC), next run, last run and its status')
    .action(async () => {
      await withScheduler(async (scheduler, opened) => {
        const last = new Map((await opened.db.withSystem((tx) => lastRuns(tx))).map((r) => [r.job, r]));
        for (const { def, schedule, nextRun } of scheduler.list()) {
          const run = last.get(def.name);
          const lastText = run ? `${run.started_at.toISOString()} ${run.status}` : 'never';
          process.stdout.write(`${def.name}\t${schedule}\tnext ${nextRun?.toISOString() ?? '-'}\tlast ${lastText}\n`);
        }
      });
    });
  jobs
    .command('run <name>')
    .description('run a job now and wait for it; exits 1 unless it succeeds')
    .action(async (name: string) => {
      await withScheduler(async (scheduler) => {
        if (!scheduler.get(name)) throw new Error(`unknown job ${name} (see: darezone jobs list)`);
        try {
          const { runId, done } = await scheduler.trigger(name);
          const finished = await done;
          process.stdout.write(`${name}\t${runId}\t${finished.status}\t${Math.round(finished.durationMs)} ms\n`);
          if (finished.status !== 'success' && finished.status !== 'skipped') {
            throw new Error(`${name} ${finished.status}: ${finished.error ?? ''}`.trim());
          }
        } catch (err) {
          if (err instanceof JobBusyError) throw new Error(`${name} is already running`, { cause: err });
          throw err;
        }
      });
    });
}
