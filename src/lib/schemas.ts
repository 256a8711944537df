// Schema pieces every module shares, so each is declared once (validation, serialization, docs).
import { Type, type TSchema } from 'typebox';

export const Uuid = Type.String({ format: 'uuid', description: 'UUID' });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
/** A calendar date in the user's own time zone (§2). */
export const LocalDate = Type.String({ format: 'date', description: 'YYYY-MM-DD', maxLength: 10 });
/**
 * ISO-8601 UTC on the wire. Typed `Date | string` because rows carry Date objects and the response
 * serializer (fast-json-stringify, format date-time) writes them as ISO strings: no mapping code.
 */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', description: 'ISO-8601 UTC' });

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Page size (max 100)' }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page' })),
};

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
