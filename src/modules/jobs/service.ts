import type { FastifyInstance } from 'fastify';
import { AppError, notFound } from '../../errors.js';
import { decodeTimeIdCursor, toPage } from '../../lib/pagination.js';
import { lastRuns, listRuns, type JobRunRow } from '../../jobs/repository.js';
import { JobBusyError } from '../../jobs/scheduler.js';

function toApi(run: JobRunRow) {
  return {
    ...run,
    scheduled_for: run.scheduled_for.toISOString(),
    started_at: run.started_at.toISOString(),
    finished_at: run.finished_at?.toISOString() ?? null,
  };
}

export async function listJobs(app: FastifyInstance) {
  const last = new Map((await app.db.withSystem((tx) => lastRuns(tx))).map((r) => [r.job, r]));
  const items = app.scheduler.list().map(({ def, schedule, nextRun }) => {
    const run = last.get(def.name);
    return {
      name: def.name,
      description: def.description,
      schedule,
      timeout_ms: def.timeoutMs,
      next_run: nextRun?.toISOString() ?? null,
      last_run: run ? toApi(run) : null,
    };
  });
  return { items };
}

export async function jobHistory(app: FastifyInstance, name: string, query: { limit: number; cursor?: string }) {
  if (!app.scheduler.get(name)) throw notFound('job');
  const after = decodeTimeIdCursor(query.cursor);
  const rows = await app.db.withSystem((tx) => listRuns(tx, name, query.limit, after));
  const page = toPage(rows, query.limit, (r) => [r.started_at.toISOString(), r.id]);
  return { items: page.items.map(toApi), next_cursor: page.next_cursor };
}

export async function triggerJob(app: FastifyInstance, name: string) {
  if (!app.scheduler.get(name)) throw notFound('job');
  try {
    const { runId, done } = await app.scheduler.trigger(name);
    void done.catch((err: unknown) => app.log.error({ err, job: name }, 'manual job run failed to record'));
    return { run_id: runId, job: name, status: 'running' as const };
  } catch (err) {
    if (err instanceof JobBusyError) throw new AppError('CONFLICT', `Job ${name} is already running`);
    throw err;
  }
}
