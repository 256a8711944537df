import { Type } from 'typebox';
import { Page, PageQuery, Timestamp, Uuid } from '../../lib/schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const AlertsQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')], { description: 'Only alerts in this state' })),
    rule: Type.Optional(Type.String({ pattern: '^[a-z0-9_.:]{1,100}$', description: 'Only this rule, e.g. http_5xx_ratio or job_failed:stats.refresh' })),
  },
  { additionalProperties: false },
);

export const Alert = Type.Object({
  id: Uuid,
  rule: Type.String({ description: 'Rule name; job alerts are job_failed:<job>' }),
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  severity: Type.Union([Type.Literal('warning'), Type.Literal('critical')]),
  value: Nullable(Type.Number()),
  threshold: Nullable(Type.Number()),
  message: Type.String(),
  fired_at: Timestamp,
  last_notified_at: Timestamp,
  resolved_at: Nullable(Timestamp),
  runbook: Type.String({ description: 'The runbook section for this alert' }),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export const AlertsPage = Page(Alert);
