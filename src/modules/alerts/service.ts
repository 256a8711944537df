import type { FastifyInstance } from 'fastify';
import { invalid } from '../../errors.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { runbookLink } from '../../alerts/messages.js';
import type { AlertRow } from '../../alerts/repository.js';
import { listAlerts } from './repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function alertHistory(app: FastifyInstance, query: { limit: number; cursor?: string; status?: string; rule?: string }) {
  const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
  // A well-formed cursor carrying something else must be a 400, not a failed cast (500) in SQL.
  if (after && (Number.isNaN(Date.parse(String(after[0]))) || !UUID.test(String(after[1])))) {
    throw invalid('query.cursor', 'is not a cursor this endpoint returned');
  }
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
