// Profile rules (§3 Accounts): who may see whom, what a valid profile is. Another user's profile is
// visible to friends and fellow challenge members only — anyone else, and anyone on either side of
// a block, gets the same 404 as for an id that does not exist, so ids cannot be probed.
import type { Clock } from '../../plugins/core.js';
import type { Database } from '../../db/database.js';
import { AppError, invalid, notFound } from '../../errors.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import * as repo from './repository.js';
import type { UpdateProfile } from './schemas.js';

// Intl's list holds canonical names only (no "UTC", no "Asia/Kolkata" on some ICU versions), while
// phones report whatever their OS calls the zone. So: the list at start-up, plus any name Intl
// itself resolves that looks like an IANA name (not an offset such as "+05:00"), remembered once
// accepted. The set stays bounded by the size of the time-zone database.
const TIME_ZONES = new Set<string>([...Intl.supportedValuesOf('timeZone'), 'UTC']);
const IANA_SHAPE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

export function isValidTimeZone(name: string): boolean {
  if (TIME_ZONES.has(name)) return true;
  if (name.length > 64 || !IANA_SHAPE.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
  } catch {
    return false;
  }
  TIME_ZONES.add(name);
  return true;
}

// Control characters (newlines, NUL, terminal escapes) have no place in a name shown in lists and
// notifications.
const CONTROL = /\p{Cc}/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function normaliseDisplayName(value: string, path = 'body.display_name'): string {
  const name = value.trim();
  if (name.length === 0 || [...name].length > 50) throw invalid(path, 'must be 1–50 characters (not only spaces)');
  if (CONTROL.test(name)) throw invalid(path, 'must not contain control characters');
  return name;
}

/** Optional free text: trimmed, and "" means "clear it" (stored as null). */
function optionalText(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const text = value.trim();
  return text === '' ? null : text;
}

/** Rows carry Dates; the API speaks ISO-8601 strings (§2). */
export function presentOwnProfile(row: repo.OwnProfileRow) {
  return { ...row, created_at: row.created_at.toISOString() };
}

export interface UsersDeps {
  db: Database;
  clock: Clock;
}

export function createUsersService({ db, clock }: UsersDeps) {
  async function ownProfile(userId: string) {
    const profile = await db.withUser(userId, (tx) => repo.findOwnProfile(tx, userId));
    // A valid token whose account is gone: the identity itself is no longer there.
    if (!profile) throw new AppError('UNAUTHENTICATED', 'This account no longer exists');
    return presentOwnProfile(profile);
  }

  async function updateOwnProfile(userId: string, body: UpdateProfile) {
    const changes: repo.ProfileChanges = {
      full_name: optionalText(body.full_name),
      bio: optionalText(body.bio),
      avatar_media_id: body.avatar_media_id,
    };
    if (body.display_name !== undefined) changes.display_name = normaliseDisplayName(body.display_name);
    if (body.timezone !== undefined) {
      if (!isValidTimeZone(body.timezone)) throw invalid('body.timezone', 'is not an IANA time zone name');
      changes.timezone = body.timezone;
    }
    return db.withUser(userId, async (tx) => {
      if (changes.avatar_media_id && !(await repo.ownsAvatar(tx, userId, changes.avatar_media_id))) {
        throw invalid('body.avatar_media_id', 'must be an avatar image you uploaded');
      }
      await repo.updateProfile(tx, userId, changes, clock.now());
      const profile = await repo.findOwnProfile(tx, userId);
      if (!profile) throw new AppError('UNAUTHENTICATED', 'This account no longer exists');
      return presentOwnProfile(profile);
    });
  }

  async function profileOf(viewerId: string, userId: string) {
    return db.withUser(viewerId, async (tx) => {
      if (userId !== viewerId) {
        const rel = await repo.relationshipWith(tx, userId);
        if (rel.blocked || !(rel.friends || rel.shares_challenge)) throw notFound('user');
      }
      const profile = await repo.findPublicProfile(tx, userId);
      if (!profile) throw notFound('user');
      return profile;
    });
  }

  async function search(viewerId: string, query: { q: string; limit: number; cursor?: string }) {
    const prefix = query.q.trim();
    if ([...prefix].length < 2) throw invalid('query.q', 'must be at least 2 characters');
    const key = decodeCursor(query.cursor, 2);
    const after = key && typeof key[0] === 'string' && typeof key[1] === 'string' && UUID.test(key[1]) ? { name: key[0], id: key[1] } : undefined;
    if (key && !after) throw invalid('query.cursor', 'is not a cursor this endpoint returned');
    const rows = await db.withUser(viewerId, (tx) => repo.searchProfiles(tx, { prefix, limit: query.limit + 1, after }));
    const page = toPage(rows, query.limit, (r) => [r.sort_name, r.id]);
    return { items: page.items.map(({ sort_name: _sortName, ...profile }) => profile), next_cursor: page.next_cursor };
  }

  return { ownProfile, updateOwnProfile, profileOf, search };
}

export type UsersService = ReturnType<typeof createUsersService>;
