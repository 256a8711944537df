// Keyset pagination (§2: ?limit & ?cursor → {items, next_cursor}). The cursor is the sort key of the
// last item, opaque to clients (base64url JSON); keyset rather than OFFSET so pages stay stable while
// rows are inserted and deep pages cost the same as the first.
import { invalid } from '../errors.js';

export type CursorKey = (string | number)[];

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): CursorKey | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number')) {
      return key;
    }
  } catch {
    // fall through
  }
  throw invalid('query.cursor', 'is not a cursor this endpoint returned');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/**
 * A (timestamp, uuid) cursor as written by `toPage(…, r => [date.toISOString(), r.id])`. Validated
 * here because the repository casts both in SQL: a forged value must be a 400, not a failed cast (500).
 */
export function decodeTimeIdCursor(cursor: string | undefined): [string, string] | undefined {
  const key = decodeCursor(cursor, 2);
  if (!key) return undefined;
  const [at, id] = key;
  if (typeof at !== 'string' || !ISO_INSTANT.test(at) || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !UUID.test(id)) {
    throw invalid('query.cursor', 'is not a cursor this endpoint returned');
  }
  return [at, id];
}

/**
 * Query `limit + 1` rows; this trims the extra one and builds next_cursor from the last kept row.
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => CursorKey) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
