// Profile shapes (§3 Accounts). Two views of one row: the owner's (email, role, every counter) and
// the public subset other users may see (no email, no role, no time zone: a time zone is a rough
// location, and nobody else needs it — reminders are computed server-side).
import { Type, type Static } from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/schemas.js';

/**
 * `type: [T, 'null']` rather than a union: with the app's type coercion on, ajv would coerce a null
 * into "" through the union's string branch, so `"bio": null` would store an empty string.
 */
export const NullableString = (opts: Record<string, unknown> = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...opts });
const NullableUuid = (description: string) => NullableString({ format: 'uuid', description });

const Counters = {
  current_streak: Type.Integer({ minimum: 0 }),
  longest_streak: Type.Integer({ minimum: 0 }),
  points: Type.Integer({ minimum: 0 }),
};

export const PublicProfile = Type.Object(
  {
    id: Uuid,
    display_name: Type.String(),
    full_name: NullableString(),
    bio: NullableString(),
    avatar_media_id: NullableUuid('An avatar (GET /api/v1/media/{id})'),
    ...Counters,
  },
  { additionalProperties: false, description: 'What other users may see of a profile (never email or role)' },
);

export const OwnProfile = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
    display_name: Type.String(),
    full_name: NullableString(),
    bio: NullableString(),
    timezone: Type.String({ description: 'IANA time zone; "today" for check-ins is this zone\'s local day' }),
    avatar_media_id: NullableUuid('An avatar (GET /api/v1/media/{id})'),
    ...Counters,
    total_check_ins: Type.Integer({ minimum: 0 }),
    total_challenges_completed: Type.Integer({ minimum: 0 }),
    created_at: Timestamp,
  },
  { additionalProperties: false, description: 'The caller\'s own account and profile' },
);

export const UpdateProfileBody = Type.Object(
  {
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: '1–50 characters, trimmed' })),
    full_name: Type.Optional(NullableString({ maxLength: 100, description: 'null or "" clears it' })),
    bio: Type.Optional(NullableString({ maxLength: 500, description: 'null or "" clears it' })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone name such as "Europe/Paris" or "UTC"' })),
    avatar_media_id: Type.Optional(NullableUuid('A media item of kind "avatar" that you uploaded; null removes the avatar')),
  },
  { additionalProperties: false, description: 'Only the fields sent change. Any other field (role, points, email…) is refused with 400.' },
);
export type UpdateProfile = Static<typeof UpdateProfileBody>;

export const SearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 2, maxLength: 50, description: 'Start of a display name (case-insensitive; % and _ match literally)' }),
    ...PageQuery,
  },
  { additionalProperties: false },
);
