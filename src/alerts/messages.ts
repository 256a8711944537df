// One alert notice, rendered once for every channel: what, since when, the current value against
// the threshold, and the runbook section (docs/INCIDENT_RESPONSE.md#alert-<rule>).
import type { AlertRow } from './repository.js';
import { RULES, baseRule } from './rules.js';

export type NoticeKind = 'firing' | 'reminder' | 'escalated' | 'resolved';

export interface Notice {
  kind: NoticeKind;
  alert: AlertRow;
  instance: string;
  at: Date;
}

export const DEFAULT_RUNBOOK = 'docs/INCIDENT_RESPONSE.md';

export function runbookLink(rule: string, base: string | undefined): string {
  return `${base ?? DEFAULT_RUNBOOK}#alert-${baseRule(rule).replace(/_/g, '-')}`;
}

function duration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

const unit = (alert: AlertRow) => {
  const u = (alert.details as { unit?: string }).unit;
  return u ? (u === '%' ? ' %' : ` ${u}`) : '';
};

export function renderNotice(n: Notice, runbookBase: string | undefined) {
  const { alert } = n;
  const title = RULES[baseRule(alert.rule)]?.title ?? alert.rule;
  const subject = alert.rule.includes(':') ? ` (${alert.rule.split(':').slice(1).join(':')})` : '';
  const label = { firing: 'FIRING', reminder: 'STILL FIRING', escalated: 'ESCALATED', resolved: 'RESOLVED' }[n.kind];
  const firedAt = new Date(alert.fired_at);
  const headline = `[${label}${n.kind === 'resolved' ? '' : ` ${alert.severity}`}] DareZone: ${title}${subject}`;
  const since =
    n.kind === 'resolved'
      ? `Fired at ${firedAt.toISOString()}, resolved at ${n.at.toISOString()} (after ${duration(n.at.getTime() - firedAt.getTime())})`
      : `Since ${firedAt.toISOString()} (${duration(n.at.getTime() - firedAt.getTime())})`;
  const lines = [
    headline,
    '',
    `What: ${alert.message}`,
    since,
    `Value: ${alert.value ?? 'n/a'}${unit(alert)} (threshold ${alert.threshold ?? 'n/a'}${unit(alert)})`,
    `Severity: ${alert.severity}`,
    `Runbook: ${runbookLink(alert.rule, runbookBase)}`,
    `Reported by instance ${n.instance}; history: GET /api/v1/admin/alerts`,
  ];
  return { subject: headline, text: lines.join('\n') };
}
