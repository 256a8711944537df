// The alerts table is both the history and the lock that makes notifications happen once per
// transition across instances (migrations/0002: alerts_one_firing_per_rule, a partial unique index
// on (rule) where status = 'firing'):
//   fire     insert ... on conflict do nothing returning   only one instance gets the row back
//   remind   update ... where last_notified_at <= now - reminder returning (under a row lock)
//   resolve  update ... where status = 'firing' returning   only one instance gets the row back
// details.breaching maps instance -> the last time it saw the condition. An alert resolves only
// when no other instance has seen it within the staleness bound: request-based rules are judged
// per instance, and one healthy instance must not resolve an alert another one still sees.
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/database.js';

export interface AlertRow {
  id: string;
  rule: string;
  status: 'firing' | 'resolved';
  severity: 'warning' | 'critical';
  value: number | null;
  threshold: number | null;
  message: string;
  fired_at: Date;
  last_notified_at: Date;
  resolved_at: Date | null;
  details: Record<string, unknown>;
}

export interface Observation {
  rule: string;
  severity: 'warning' | 'critical';
  value: number | null;
  threshold: number | null;
  message: string;
  details: Record<string, unknown>;
}

export async function firingRules(tx: Tx): Promise<Set<string>> {
  const rows = await tx.query<{ rule: string }>(sql`select rule from alerts where status = 'firing'`);
  return new Set(rows.map((r) => r.rule));
}

const detailsJson = (o: Observation) => JSON.stringify(o.details);

/** Inserts the firing row; undefined when the rule already fires (this instance did not fire it). */
export async function fire(tx: Tx, o: Observation, instance: string, now: Date): Promise<AlertRow | undefined> {
  return tx.one<AlertRow>(sql`
    insert into alerts (rule, status, severity, value, threshold, message, fired_at, last_notified_at, details)
    values (${o.rule}, 'firing', ${o.severity}, ${o.value}, ${o.threshold}, ${o.message}, ${now}, ${now},
            ${detailsJson(o)}::jsonb || jsonb_build_object('breaching', jsonb_build_object(${instance}::text, ${now.toISOString()}::text)))
    on conflict (rule) where status = 'firing' do nothing
    returning *`);
}

export interface Refreshed {
  row: AlertRow;
  previousSeverity: 'warning' | 'critical';
  /** This call took the reminder (or escalation) slot: notify. */
  notify: 'reminder' | 'escalated' | null;
}

/**
 * The condition still holds: records this instance's sighting and the current value; takes the
 * reminder slot when the last notice is `reminderMs` old, or at once when the severity rose.
 */
export async function refresh(tx: Tx, o: Observation, instance: string, now: Date, reminderMs: number): Promise<Refreshed | undefined> {
  const remindBefore = new Date(now.getTime() - reminderMs);
  const row = await tx.one<AlertRow & { previous_severity: 'warning' | 'critical'; previous_notified_at: Date }>(sql`
    with current as (
      select id, severity, last_notified_at from alerts where rule = ${o.rule} and status = 'firing' for update
    )
    update alerts a set
      severity = ${o.severity}, value = ${o.value}, threshold = ${o.threshold}, message = ${o.message},
      details = (a.details || ${detailsJson(o)}::jsonb)
                || jsonb_build_object('breaching', coalesce(a.details->'breaching', '{}'::jsonb) || jsonb_build_object(${instance}::text, ${now.toISOString()}::text)),
      last_notified_at = case
        when current.last_notified_at <= ${remindBefore} or (current.severity = 'warning' and ${o.severity} = 'critical') then ${now}
        else current.last_notified_at end
    from current where a.id = current.id
    returning a.*, current.severity as previous_severity, current.last_notified_at as previous_notified_at`);
  if (!row) return undefined;
  const { previous_severity: previousSeverity, previous_notified_at: previousNotifiedAt, ...alert } = row;
  const escalated = previousSeverity === 'warning' && o.severity === 'critical';
  const notify = escalated ? 'escalated' : new Date(previousNotifiedAt).getTime() <= remindBefore.getTime() ? 'reminder' : null;
  return { row: alert, previousSeverity, notify };
}

/**
 * The condition no longer holds here: drops this instance's sighting and, in the same statement,
 * resolves the alert unless another instance saw the condition after `staleBefore`. One statement
 * under the row lock: two instances recovering at once serialize, and the second sees the first
 * one's sighting gone, so the alert resolves now rather than one interval later. Returns the row
 * when this call resolved it.
 */
export async function resolve(
  tx: Tx,
  rule: string,
  value: number | null,
  instance: string,
  now: Date,
  staleBefore: Date,
): Promise<AlertRow | undefined> {
  const clear = sql`not exists (
    select 1 from jsonb_each_text(coalesce(details->'breaching', '{}'::jsonb)) seen
    where seen.key <> ${instance} and seen.value::timestamptz > ${staleBefore})`;
  const row = await tx.one<AlertRow>(sql`
    update alerts set
      details = details #- array['breaching', ${instance}::text],
      status = case when ${clear} then 'resolved' else 'firing' end,
      resolved_at = case when ${clear} then ${now}::timestamptz else null end,
      value = case when ${clear} then coalesce(${value}, value) else value end
    where rule = ${rule} and status = 'firing'
    returning *`);
  return row?.status === 'resolved' ? row : undefined;
}
