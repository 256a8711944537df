-- At most one run of a job at a time, across every instance: a manual trigger while the job runs is
-- a 409, and a scheduled slot that arrives while an earlier run still works is recorded as skipped
-- instead of overlapping it. The (job, scheduled_for) key already makes each slot run once.
create unique index job_runs_one_running on job_runs (job) where status = 'running';
