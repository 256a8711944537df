// The built-in alert rules (§5.3). Each rule looks at one fact and says, per subject, whether the
// condition holds now, with the value and threshold that go into the message. A rule that cannot
// tell (its query failed, statfs failed) says `unknown`: the alert is then neither fired nor
// resolved. Thresholds come from the ALERT_* variables (src/config.ts).
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Observation } from './repository.js';
import type { WindowSummary } from './request-window.js';

export type Evaluation = (Observation & { breaching: boolean }) | { rule: string; unknown: true; reason: string };

export interface RuleContext {
  now: Date;
  config: Config;
  db: Database;
  window: () => WindowSummary;
  /** Failing readiness checks, without `shutdown` (a draining instance is not an incident). */
  failingChecks: () => Promise<string[]>;
  jobNames: () => string[];
}

export interface RuleInfo {
  /** Alert names: the rule column, the metric label, the runbook anchor (alert-<name with dashes>). */
  name: string;
  title: string;
}

export const RULES = {
  http_5xx_ratio: { name: 'http_5xx_ratio', title: '5xx error ratio above threshold' },
  http_latency_p95: { name: 'http_latency_p95', title: 'p95 latency above threshold' },
  readiness: { name: 'readiness', title: 'Readiness check failing' },
  backup_missing: { name: 'backup_missing', title: 'No successful backup recently' },
  backup_failed: { name: 'backup_failed', title: 'A backup or restore drill failed' },
  backup_unverified: { name: 'backup_unverified', title: 'No verified backup recently' },
  job_failed: { name: 'job_failed', title: 'A scheduled job failed' },
  disk_space: { name: 'disk_space', title: 'Disk space low' },
} as const satisfies Record<string, RuleInfo>;

export type RuleName = keyof typeof RULES;

/** `job_failed:media.orphans` → job_failed. */
export const baseRule = (rule: string): RuleName => rule.split(':')[0] as RuleName;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

type Rule = (ctx: RuleContext) => Promise<Evaluation[]>;

const http5xx: Rule = async ({ config, window }) => {
  const w = window();
  const percent = w.errorRatio === null ? 0 : w.errorRatio * 100;
  const threshold = config.ALERT_HTTP_5XX_PERCENT;
  const enough = w.requests >= config.ALERT_HTTP_MIN_REQUESTS;
  return [{
    rule: RULES.http_5xx_ratio.name,
    breaching: enough && percent > threshold,
    severity: 'critical',
    value: round(percent, 2),
    threshold,
    message: `${round(percent, 2)} % of ${w.requests} requests answered 5xx over the last ${config.ALERT_HTTP_WINDOW_MINUTES} min (alert above ${threshold} % with at least ${config.ALERT_HTTP_MIN_REQUESTS} requests)`,
    details: { requests: w.requests, errors_5xx: w.errors5xx, unit: '%' },
  }];
};

const httpLatency: Rule = async ({ config, window }) => {
  const w = window();
  const threshold = config.ALERT_HTTP_P95_MS;
  const p95 = w.p95Ms === null ? 0 : round(w.p95Ms, 0);
  // Same floor as the 5xx rule: a handful of slow requests on an idle instance is not an incident.
  const enough = w.requests >= config.ALERT_HTTP_MIN_REQUESTS;
  return [{
    rule: RULES.http_latency_p95.name,
    breaching: enough && p95 > threshold,
    severity: 'warning',
    value: p95,
    threshold,
    message: `p95 latency ${p95} ms over the last ${config.ALERT_HTTP_WINDOW_MINUTES} min across ${w.requests} requests (alert above ${threshold} ms)`,
    details: { requests: w.requests, unit: 'ms' },
  }];
};

const readiness: Rule = async ({ failingChecks }) => {
  const failing = await failingChecks();
  return [{
    rule: RULES.readiness.name,
    breaching: failing.length > 0,
    severity: 'critical',
    value: failing.length,
    threshold: 0,
    message: failing.length > 0 ? `readiness failing: ${failing.join(', ')}` : 'every readiness check passes',
    details: { failing, unit: 'checks' },
  }];
};

interface BackupFacts {
  last_success: Date | null;
  last_verified: Date | null;
  latest_status: string | null;
  latest_id: string | null;
  latest_error: string | null;
  latest_verify_status: string | null;
  latest_verify_id: string | null;
  latest_verify_error: string | null;
  installed_at: Date | null;
}

async function backupFacts(db: Database): Promise<BackupFacts> {
  const row = await db.withSystem((tx) =>
    tx.one<BackupFacts>(sql`
      select
        (select max(finished_at) from backups where status = 'completed') as last_success,
        (select max(verified_at) from backups where verify_status = 'passed') as last_verified,
        latest.status as latest_status, latest.id as latest_id, latest.error as latest_error,
        verify.verify_status as latest_verify_status, verify.id as latest_verify_id, verify.verify_error as latest_verify_error,
        (select min(applied_at) from schema_migrations) as installed_at
      from (select 1) one
      left join lateral (select id, status, error from backups where status <> 'running' order by started_at desc limit 1) latest on true
      left join lateral (select id, verify_status, verify_error from backups where verified_at is not null order by verified_at desc limit 1) verify on true`),
  );
  const asDate = (d: Date | string | null) => (d === null ? null : new Date(d));
  return { ...row!, last_success: asDate(row!.last_success), last_verified: asDate(row!.last_verified), installed_at: asDate(row!.installed_at) };
}

/**
 * Age of the newest success, or, when there has never been one, the age of the installation (the
 * first migration): a fresh install is not "26 h without a backup" until it is 26 h old.
 */
const ageSince = (now: Date, last: Date | null, installed: Date | null) => now.getTime() - (last ?? installed ?? now).getTime();

const backups: Rule = async ({ now, config, db }) => {
  const f = await backupFacts(db);
  const hours = ageSince(now, f.last_success, f.installed_at) / HOUR;
  const days = ageSince(now, f.last_verified, f.installed_at) / DAY;
  const never = (d: Date | null) => (d ? `since ${d.toISOString()}` : 'ever');
  const backupFailed = f.latest_status === 'failed';
  const drillFailed = f.latest_verify_status === 'failed';
  const failures = [
    backupFailed ? `backup ${f.latest_id} failed${f.latest_error ? `: ${f.latest_error.slice(0, 200)}` : ''}` : null,
    drillFailed ? `restore drill of backup ${f.latest_verify_id} failed${f.latest_verify_error ? `: ${f.latest_verify_error.slice(0, 200)}` : ''}` : null,
  ].filter((x): x is string => x !== null);
  return [
    {
      rule: RULES.backup_missing.name,
      breaching: hours > config.ALERT_BACKUP_MAX_AGE_HOURS,
      severity: 'critical',
      value: round(hours),
      threshold: config.ALERT_BACKUP_MAX_AGE_HOURS,
      message: `no successful backup ${never(f.last_success)} (${round(hours)} h; alert above ${config.ALERT_BACKUP_MAX_AGE_HOURS} h)`,
      details: { last_success: f.last_success?.toISOString() ?? null, unit: 'h' },
    },
    {
      rule: RULES.backup_failed.name,
      breaching: failures.length > 0,
      severity: 'critical',
      value: failures.length,
      threshold: 0,
      message: failures.length > 0 ? failures.join('; ') : 'the latest backup and restore drill succeeded',
      details: { backup_id: backupFailed ? f.latest_id : null, verify_backup_id: drillFailed ? f.latest_verify_id : null, unit: 'failures' },
    },
    {
      rule: RULES.backup_unverified.name,
      breaching: days > config.ALERT_VERIFY_MAX_AGE_DAYS,
      severity: 'warning',
      value: round(days),
      threshold: config.ALERT_VERIFY_MAX_AGE_DAYS,
      message: `no backup passed a restore drill ${never(f.last_verified)} (${round(days)} days; alert above ${config.ALERT_VERIFY_MAX_AGE_DAYS} days)`,
      details: { last_verified: f.last_verified?.toISOString() ?? null, unit: 'days' },
    },
  ];
};

const jobs: Rule = async ({ config, db, jobNames }) => {
  const names = jobNames();
  if (names.length === 0) return [];
  const critical = config.ALERT_JOB_FAILURES_CRITICAL;
  // Per job, its newest finished runs (skipped slots do not count either way); the slot index
  // (job, scheduled_for) makes each lookup a short backward index scan.
  const rows = await db.withSystem((tx) =>
    tx.query<{ job: string; status: string; error: string | null; finished_at: Date | null }>(sql`
      select j.job, r.status, r.error, r.finished_at
      from (values ${sql.join(names.map((n) => sql`(${n}::text)`), sql`, `)}) as j(job)
      cross join lateral (
        select status, error, finished_at from job_runs
        where job = j.job and status in ('success', 'failed', 'timed_out')
        order by scheduled_for desc limit ${Math.max(critical, 1)}
      ) r`),
  );
  return names.map((job) => {
    const runs = rows.filter((r) => r.job === job);
    let streak = 0;
    while (streak < runs.length && runs[streak]!.status !== 'success') streak++;
    const last = runs[0];
    return {
      rule: `${RULES.job_failed.name}:${job}`,
      breaching: streak > 0,
      severity: streak >= critical ? ('critical' as const) : ('warning' as const),
      value: streak,
      threshold: 1,
      message:
        streak > 0
          ? `job ${job} failed ${streak >= critical ? `${streak} or more runs in a row` : streak === 1 ? 'its last run' : `its last ${streak} runs`} (${last?.status}: ${(last?.error ?? 'no error recorded').slice(0, 300)}; critical at ${critical} in a row)`
          : `job ${job} succeeded`,
      details: { job, consecutive_failures: streak, unit: 'runs' },
    };
  });
};

/** Free space of the file system holding DATA_DIR (its nearest existing ancestor before first use). */
export async function freePercent(dir: string): Promise<number> {
  let current = dir;
  for (;;) {
    try {
      const s = await statfs(current);
      return (s.bavail / s.blocks) * 100;
    } catch (err) {
      const parent = path.dirname(current);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw err;
      current = parent;
    }
  }
}

const disk: Rule = async ({ config }) => {
  const free = await freePercent(config.dataDir);
  const threshold = config.ALERT_DISK_FREE_PERCENT;
  return [{
    rule: RULES.disk_space.name,
    breaching: free < threshold,
    severity: 'critical',
    value: round(free),
    threshold,
    message: `${round(free)} % free on the file system holding DATA_DIR (alert below ${threshold} %)`,
    details: { path: config.dataDir, unit: '%' },
  }];
};

const ALL: [RuleName[], Rule][] = [
  [['http_5xx_ratio'], http5xx],
  [['http_latency_p95'], httpLatency],
  [['readiness'], readiness],
  [['backup_missing', 'backup_failed', 'backup_unverified'], backups],
  [['job_failed'], jobs],
  [['disk_space'], disk],
];

/** Every rule's evaluations; a rule that throws yields `unknown` for what it covers. */
export async function evaluateRules(ctx: RuleContext, firing: Set<string>): Promise<Evaluation[]> {
  const results = await Promise.all(
    ALL.map(async ([names, rule]) => {
      try {
        return await rule(ctx);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        // Unknown for the rule and for every firing alert it owns (e.g. each job_failed:<job>).
        const owned = [...firing].filter((r) => names.includes(baseRule(r)));
        return [...new Set([...names, ...owned])].map((rule): Evaluation => ({ rule, unknown: true, reason }));
      }
    }),
  );
  return results.flat();
}
