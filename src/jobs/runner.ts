// Runs one claimed job run: time-out (abort + rollback of the run's open transaction), retries per
// the job's policy, and exactly one final status written to job_runs.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database.js';
import type { Clock } from '../plugins/core.js';
import { finishRun, startAttempt } from './repository.js';
import type { JobContext, JobDefinition, JobOutcome, RunStatus } from './types.js';

export interface RunFinished {
  job: string;
  runId: string;
  status: Exclude<RunStatus, 'running'>;
  durationMs: number;
  error?: string;
  trigger: 'schedule' | 'manual';
}

/** Monitoring (metrics, alerts, error tracking) subscribes here instead of jobs knowing about it. */
export const jobEvents = new EventEmitter<{ finished: [RunFinished] }>();

class JobTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

/** The process is shutting down: the run stops (rolled back like a time-out) and is not retried. */
class JobInterrupted extends Error {
  constructor() {
    super('interrupted by shutdown');
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, 2000);
}

async function attempt(job: JobDefinition, ctx: Omit<JobContext, 'signal' | 'withSystem'>, shutdown?: AbortSignal): Promise<JobOutcome> {
  if (shutdown?.aborted) throw new JobInterrupted();
  const controller = new AbortController();
  const { signal } = controller;
  const context: JobContext = {
    ...ctx,
    signal,
    withSystem: (fn) =>
      ctx.db.withSystem(async (tx) => {
        const result = await fn(tx);
        signal.throwIfAborted(); // aborted while working: throw before COMMIT so nothing lands
        return result;
      }),
  };
  let timer: NodeJS.Timeout | undefined;
  let onShutdown: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (err: Error) => {
      controller.abort(err);
      reject(err);
    };
    timer = setTimeout(() => stop(new JobTimeout(job.timeoutMs)), job.timeoutMs);
    onShutdown = () => stop(new JobInterrupted());
    shutdown?.addEventListener('abort', onShutdown, { once: true });
  });
  try {
    return (await Promise.race([job.run(context), stopped])) ?? {};
  } finally {
    clearTimeout(timer);
    if (onShutdown) shutdown?.removeEventListener('abort', onShutdown);
  }
}

export async function executeRun(
  job: JobDefinition,
  run: { id: string; scheduledFor: Date; trigger: 'schedule' | 'manual' },
  deps: { db: Database; clock: Clock; log: FastifyBaseLogger; shutdown?: AbortSignal },
): Promise<RunFinished> {
  const log = deps.log.child({ job: job.name, run_id: run.id });
  const started = performance.now();
  let status: RunFinished['status'] = 'failed';
  let error: string | undefined;
  let result: Record<string, unknown> | undefined;
  for (let n = 1; n <= Math.max(1, job.retries.attempts); n++) {
    if (n > 1) {
      // A retry waiting minutes must not hold up a shutdown: the run ends now as failed.
      const waited = await sleep(job.retries.delayMs, true, { signal: deps.shutdown }).catch(() => false);
      if (!waited) {
        error = `${error ?? ''} (not retried: ${new JobInterrupted().message})`.trim();
        break;
      }
      await deps.db.withSystem((tx) => startAttempt(tx, run.id, n));
    }
    try {
      const outcome = await attempt(job, { scheduledFor: run.scheduledFor, clock: deps.clock, log, db: deps.db }, deps.shutdown);
      status = outcome.status ?? 'success';
      result = outcome.result;
      error = undefined;
      break;
    } catch (err) {
      error = errorText(err);
      // A time-out is not retried: the next slot is the retry, and retrying would double the overrun.
      status = err instanceof JobTimeout ? 'timed_out' : 'failed';
      log.warn({ err, attempt: n }, 'job attempt failed');
      if (status === 'timed_out' || err instanceof JobInterrupted) break;
    }
  }
  const durationMs = performance.now() - started;
  await deps.db.withSystem((tx) => finishRun(tx, run.id, { status, finishedAt: deps.clock.now(), durationMs, error, result }));
  const finished: RunFinished = { job: job.name, runId: run.id, status, durationMs, trigger: run.trigger, ...(error ? { error } : {}) };
  log[status === 'failed' || status === 'timed_out' ? 'error' : 'info']({ status, duration_ms: Math.round(durationMs), result }, 'job run finished');
  jobEvents.emit('finished', finished);
  return finished;
}
