import type { FastifyInstance } from 'fastify';
import { decodeTimeIdCursor, toPage } from '../../lib/pagination.js';
import { runbookLink } from '../../alerts/messages.js';
import type { AlertRow } from '../../alerts/repository.js';
import { listAlerts } from './repository.js';

export async function alertHistory(app: FastifyInstance, query: { limit: number; cursor?: string; status?: string; rule?: string }) {
  const after = decodeTimeIdCursor(query.cursor);
  const rows = await app.db.withSystem((tx) => listAlerts(tx, { ...query, after }));
  // Timestamps are written by the app's clock (millisecond precision), so an ISO cursor is exact.
  const page = toPage(rows, query.limit, (r) => [new Date(r.fired_at).toISOString(), r.id]);
  return {
    items: page.items.map((r: AlertRow) => ({ ...r, runbook: runbookLink(r.rule, app.config.RUNBOOK_BASE_URL), details: publicDetails(r.details) })),
    next_cursor: page.next_cursor,
  };
}

/** Drops the per-instance bookkeeping (which instance saw the condition when) from the details. */
function publicDetails(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([key]) => key !== 'breaching'));
}
