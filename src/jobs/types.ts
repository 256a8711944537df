import type { FastifyBaseLogger } from 'fastify';
import type { Database, Tx } from '../db/database.js';
import type { Clock } from '../plugins/core.js';

export type RunStatus = 'running' | 'success' | 'failed' | 'skipped' | 'timed_out';

export interface JobContext {
  /** The slot this run is for (the trigger time for manual runs). */
  scheduledFor: Date;
  clock: Clock;
  log: FastifyBaseLogger;
  signal: AbortSignal;
  /**
   * A darezone_jobs transaction that is rolled back if the run was aborted (timed out) before it
   * commits: a timed-out run leaves no half of its work behind.
   */
  withSystem<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  db: Database;
}

export interface JobOutcome {
  status?: 'success' | 'skipped';
  /** A small summary stored with the run (counts, ids): keep it to a few fields. */
  result?: Record<string, unknown>;
}

export interface JobDefinition {
  name: string;
  description: string;
  /** Cron expression (UTC). Seconds field optional. Overridable with JOB_SCHEDULES. */
  schedule: string;
  timeoutMs: number;
  /** A slot missed (server down) is still run if it is at most this late; older slots are skipped. */
  catchUpMs: number;
  retries: { attempts: number; delayMs: number };
  run(ctx: JobContext): Promise<JobOutcome | void>;
}
