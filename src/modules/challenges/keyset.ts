// Keyset pagination over (timestamp, id). The cursor carries the timestamp as whole microseconds
// since the epoch: a JS Date keeps only milliseconds, and a cursor that rounds the key would skip or
// repeat rows that differ below a millisecond. Both engines store microseconds.
import { sql, type SQL } from 'drizzle-orm';
import { decodeCursor, type CursorKey } from '../../lib/pagination.js';
import { invalid } from '../../errors.js';

export interface Keyset {
  micros: number;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Select-list expression giving the microsecond key of a timestamptz column. */
export const micros = (column: SQL) => sql`(extract(epoch from ${column}) * 1000000)::int8`;

export function decodeKeyset(cursor: string | undefined): Keyset | undefined {
  const key = decodeCursor(cursor, 2);
  if (!key) return undefined;
  const [m, id] = key;
  if (typeof m !== 'number' || !Number.isSafeInteger(m) || typeof id !== 'string' || !UUID.test(id)) {
    throw invalid('query.cursor', 'is not a cursor this endpoint returned');
  }
  return { micros: m, id };
}

export const keyOf = (row: { cursor_us: number; id: string }): CursorKey => [row.cursor_us, row.id];

/** `(column, idColumn) < / > cursor`, or true when there is no cursor. */
export function after(column: SQL, idColumn: SQL, cursor: Keyset | undefined, direction: 'asc' | 'desc'): SQL {
  if (!cursor) return sql`true`;
  const at = sql`(timestamptz 'epoch' + (${cursor.micros}::int8 || ' microseconds')::interval)`;
  return direction === 'desc'
    ? sql`(${column}, ${idColumn}) < (${at}, ${cursor.id}::uuid)`
    : sql`(${column}, ${idColumn}) > (${at}, ${cursor.id}::uuid)`;
}
