import { sql } from 'drizzle-orm';
import type { Tx } from '../db/database.js';
import type { RunStatus } from './types.js';

export interface JobRunRow {
  id: string;
  job: string;
  scheduled_for: Date;
  trigger: 'schedule' | 'manual';
  instance: string | null;
  started_at: Date;
  finished_at: Date | null;
  status: RunStatus;
  duration_ms: number | null;
  error: string | null;
  result: Record<string, unknown> | null;
  attempt: number;
}

/**
 * Claims a slot. Returns the run id, 'taken' if another instance already has this slot, or 'busy'
 * if the job is still running from an earlier slot (the one-running index said no).
 */
export async function claimSlot(
  tx: Tx,
  run: { job: string; scheduledFor: Date; trigger: 'schedule' | 'manual'; instance: string; now: Date },
): Promise<{ id: string } | 'taken' | 'busy'> {
  const row = await tx.one<{ id: string }>(sql`
    insert into job_runs (job, scheduled_for, trigger, instance, started_at, status)
    values (${run.job}, ${run.scheduledFor}, ${run.trigger}, ${run.instance}, ${run.now}, 'running')
    on conflict do nothing
    returning id`);
  if (row) return { id: row.id };
  const slot = await tx.one(sql`select 1 from job_runs where job = ${run.job} and scheduled_for = ${run.scheduledFor}`);
  return slot ? 'taken' : 'busy';
}

export async function recordSkipped(tx: Tx, job: string, scheduledFor: Date, instance: string, now: Date, reason: string) {
  await tx.execute(sql`
    insert into job_runs (job, scheduled_for, trigger, instance, started_at, finished_at, status, duration_ms, error)
    values (${job}, ${scheduledFor}, 'schedule', ${instance}, ${now}, ${now}, 'skipped', 0, ${reason})
    on conflict do nothing`);
}

export async function startAttempt(tx: Tx, id: string, attempt: number) {
  await tx.execute(sql`update job_runs set attempt = ${attempt} where id = ${id}`);
}

export async function finishRun(
  tx: Tx,
  id: string,
  outcome: { status: Exclude<RunStatus, 'running'>; finishedAt: Date; durationMs: number; error?: string | null; result?: unknown },
) {
  await tx.execute(sql`
    update job_runs set status = ${outcome.status}, finished_at = ${outcome.finishedAt},
      duration_ms = ${Math.max(0, Math.round(outcome.durationMs))}, error = ${outcome.error ?? null},
      result = ${outcome.result === undefined ? null : JSON.stringify(outcome.result)}::jsonb
    where id = ${id}`);
}

/** Runs left 'running' by an instance that died: after their time-out (plus grace) they failed. */
export async function failAbandoned(tx: Tx, job: string, olderThan: Date, now: Date): Promise<number> {
  return tx.execute(sql`
    update job_runs set status = 'failed', finished_at = ${now}, error = 'abandoned: the instance running it stopped'
    where job = ${job} and status = 'running' and started_at < ${olderThan}`);
}

export async function getRun(tx: Tx, id: string): Promise<JobRunRow | undefined> {
  return tx.one<JobRunRow>(sql`select * from job_runs where id = ${id}`);
}

export async function lastRuns(tx: Tx): Promise<JobRunRow[]> {
  return tx.query<JobRunRow>(sql`
    select distinct on (job) * from job_runs where status <> 'skipped' order by job, started_at desc`);
}

export async function listRuns(tx: Tx, job: string, limit: number, after?: [string, string]): Promise<JobRunRow[]> {
  const cursor = after ? sql`and (started_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : sql``;
  return tx.query<JobRunRow>(sql`
    select * from job_runs where job = ${job} ${cursor}
    order by started_at desc, id desc limit ${limit + 1}`);
}

export async function pruneRuns(tx: Tx, olderThan: Date): Promise<number> {
  return tx.execute(sql`delete from job_runs where started_at < ${olderThan} and status <> 'running'`);
}
