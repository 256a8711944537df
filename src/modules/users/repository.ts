// SQL for profiles. Runs inside withUser(caller): users rows are private to their owner (RLS), so the
// own-profile query can only ever return the caller, and other people's rows are read from
// user_profiles alone — the table that holds no credentials or email.
import { sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';
import type { Role } from '../auth/repository.js';

export interface OwnProfileRow {
  id: string;
  email: string;
  role: Role;
  display_name: string;
  full_name: string | null;
  bio: string | null;
  timezone: string;
  avatar_media_id: string | null;
  current_streak: number;
  longest_streak: number;
  points: number;
  total_check_ins: number;
  total_challenges_completed: number;
  created_at: Date;
}

export interface PublicProfileRow {
  id: string;
  display_name: string;
  full_name: string | null;
  bio: string | null;
  avatar_media_id: string | null;
  current_streak: number;
  longest_streak: number;
  points: number;
}

const PUBLIC_COLUMNS = sql`p.user_id as id, p.display_name, p.full_name, p.bio, p.avatar_media_id,
  p.current_streak, p.longest_streak, p.points`;

export function findOwnProfile(tx: Tx, userId: string): Promise<OwnProfileRow | undefined> {
  return tx.one<OwnProfileRow>(sql`select u.id, u.email, u.role, p.display_name, p.full_name, p.bio, p.timezone,
      p.avatar_media_id, p.current_streak, p.longest_streak, p.points, p.total_check_ins,
      p.total_challenges_completed, u.created_at
    from users u join user_profiles p on p.user_id = u.id
    where u.id = ${userId}`);
}

export function findPublicProfile(tx: Tx, userId: string): Promise<PublicProfileRow | undefined> {
  return tx.one<PublicProfileRow>(sql`select ${PUBLIC_COLUMNS} from user_profiles p where p.user_id = ${userId}`);
}

export interface Relationship {
  friends: boolean;
  shares_challenge: boolean;
  blocked: boolean;
}

/** How the caller relates to `other`, through the SECURITY DEFINER helpers of migration 0001. */
export async function relationshipWith(tx: Tx, other: string): Promise<Relationship> {
  const row = await tx.one<Relationship>(sql`select app.are_friends(${other}::uuid) as friends,
    app.shares_challenge(${other}::uuid) as shares_challenge, app.is_blocked_between(${other}::uuid) as blocked`);
  return row!;
}

export async function ownsAvatar(tx: Tx, userId: string, mediaId: string): Promise<boolean> {
  const row = await tx.one<{ ok: boolean }>(sql`select exists (select 1 from media
    where id = ${mediaId} and owner_id = ${userId} and kind = 'avatar') as ok`);
  return row?.ok === true;
}

export interface ProfileChanges {
  display_name?: string;
  full_name?: string | null;
  bio?: string | null;
  timezone?: string;
  avatar_media_id?: string | null;
}

// Column names come from this fixed list, never from the request; values are bind parameters.
const UPDATABLE = ['display_name', 'full_name', 'bio', 'timezone', 'avatar_media_id'] as const;

export async function updateProfile(tx: Tx, userId: string, changes: ProfileChanges, now: Date): Promise<void> {
  const sets: SQL[] = [];
  for (const column of UPDATABLE) {
    if (changes[column] !== undefined) sets.push(sql`${sql.identifier(column)} = ${changes[column]}`);
  }
  if (sets.length === 0) return;
  sets.push(sql`updated_at = ${now}`);
  await tx.execute(sql`update user_profiles set ${sql.join(sets, sql`, `)} where user_id = ${userId}`);
}

/**
 * Display names starting with `prefix` (case-insensitive), blocked users and the caller excluded,
 * in (lower(display_name), id) order from after `cursor`. Prefix rather than substring so that an
 * index serves it; the conditions on the stored `display_name_lower` are a byte-wise (C collation)
 * range, because under row-level security only leakproof operators reach an index scan
 * (migrations/0009): no LIKE, no lower() of the column. The range [prefix, prefix || U+10FFFF) holds
 * exactly the names starting with prefix; starts_with() re-checks it. Wildcards mean nothing here,
 * so "100%" searches for the text. The C collation also makes the order identical on PostgreSQL and
 * PGlite whatever the database's locale.
 */
export function searchProfiles(
  tx: Tx,
  q: { prefix: string; limit: number; after?: { name: string; id: string } },
): Promise<(PublicProfileRow & { sort_name: string })[]> {
  const name = sql`p.display_name_lower collate "C"`;
  const after = q.after ? sql`and (${name}, p.user_id) > (${q.after.name}::text collate "C", ${q.after.id}::uuid)` : sql``;
  return tx.query(sql`select ${PUBLIC_COLUMNS}, p.display_name_lower as sort_name
    from user_profiles p
    where ${name} >= lower(${q.prefix}::text) collate "C"
      and ${name} < (lower(${q.prefix}::text) || chr(1114111)) collate "C"
      and starts_with(p.display_name_lower, lower(${q.prefix}::text))
      and p.user_id <> app.current_user_id()
      and not app.is_blocked_between(p.user_id)
      ${after}
    order by ${name}, p.user_id
    limit ${q.limit}`);
}
