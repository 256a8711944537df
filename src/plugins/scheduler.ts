// Starts the job scheduler once the app is ready and stops it (waiting for runs in progress) on
// close. Every instance may run it: slots are claimed in the database, so each runs once.
import fp from 'fastify-plugin';
import { Cron } from 'croner';
import { JOBS } from '../jobs/registry.js';
import { Scheduler } from '../jobs/scheduler.js';
import type { JobDefinition } from '../jobs/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    scheduler: Scheduler;
  }
}

export default fp(
  (app, opts: { jobs?: JobDefinition[] }) => {
    const overrides = app.config.jobSchedules;
    const jobs = opts.jobs ?? JOBS;
    for (const [name, pattern] of Object.entries(overrides)) {
      if (!jobs.some((j) => j.name === name)) throw new Error(`JOB_SCHEDULES: unknown job ${name}`);
      try {
        new Cron(pattern, { paused: true });
      } catch {
        throw new Error(`JOB_SCHEDULES: invalid cron for ${name}: ${pattern}`);
      }
    }
    const scheduler = new Scheduler({ db: app.db, clock: app.clock, log: app.log.child({ component: 'scheduler' }), jobs, overrides });
    app.decorate('scheduler', scheduler);
    if (app.config.JOBS_ENABLED) app.addHook('onReady', async () => scheduler.start());
    app.addHook('onClose', async () => scheduler.stop());
  },
  { name: 'scheduler', dependencies: ['core'] },
);
