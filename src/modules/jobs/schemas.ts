import { Type } from 'typebox';
import { PageQuery, Page, Timestamp, Uuid } from '../../lib/schemas.js';

export const JobNameParams = Type.Object({ name: Type.String({ pattern: '^[a-z_.]{1,100}$' }) }, { additionalProperties: false });

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const RunStatus = Type.Union([
  Type.Literal('running'),
  Type.Literal('success'),
  Type.Literal('failed'),
  Type.Literal('skipped'),
  Type.Literal('timed_out'),
]);

export const JobRun = Type.Object({
  id: Uuid,
  job: Type.String(),
  scheduled_for: Timestamp,
  trigger: Type.Union([Type.Literal('schedule'), Type.Literal('manual')]),
  instance: Nullable(Type.String()),
  started_at: Timestamp,
  finished_at: Nullable(Timestamp),
  status: RunStatus,
  duration_ms: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  result: Nullable(Type.Record(Type.String(), Type.Unknown())),
  attempt: Type.Integer(),
});

export const JobSummary = Type.Object({
  name: Type.String(),
  description: Type.String(),
  schedule: Type.String({ description: 'cron, UTC' }),
  timeout_ms: Type.Integer(),
  next_run: Nullable(Timestamp),
  last_run: Nullable(JobRun),
});

export const JobList = Type.Object({ items: Type.Array(JobSummary) });
export const RunsQuery = Type.Object(PageQuery, { additionalProperties: false });
export const RunsPage = Page(JobRun);
export const Triggered = Type.Object({ run_id: Uuid, job: Type.String(), status: Type.Literal('running') });
