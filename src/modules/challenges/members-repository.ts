// Membership SQL. There is no DELETE on challenge_members for the API role: leaving and kicking are
// status changes, so a member's history and check-ins stay.
import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';
import { after, micros, type Keyset } from './keyset.js';
import type { MemberRole, MemberStatus, StoredStatus } from './repository.js';

export interface InviteTarget {
  id: string;
  type: 'individual' | 'group' | 'program';
  status: StoredStatus;
  start_date: string;
  end_date: string;
  max_members: number;
  member_count: number;
  my_status: MemberStatus | null;
}

/**
 * Looks the code up past RLS (the joiner cannot see a private challenge yet): holding it is the
 * capability. It also binds the code to the transaction: the member insert policy and the rejoin
 * guard only let a joiner in with the challenge's code (migration 0008).
 */
export async function findByInviteCode(tx: Tx, code: string) {
  await tx.execute(sql`select set_config('darezone.invite_code', ${code}, true)`);
  return tx.one<InviteTarget>(sql`select * from app.challenge_for_invite(${code})`);
}

export interface MemberRow {
  user_id: string;
  display_name: string;
  avatar_media_id: string | null;
  timezone: string;
  role: MemberRole;
  status: MemberStatus;
  joined_at: Date;
  current_streak: number;
  longest_streak: number;
  points: number;
  total_check_ins: number;
  last_check_in_date: string | null;
  cursor_us: number;
}

const memberColumns = sql`
  m.user_id, p.display_name, p.avatar_media_id, p.timezone, m.role, m.status, m.joined_at, m.current_streak,
  m.longest_streak, m.points, m.total_check_ins, m.last_check_in_date, ${micros(sql`m.joined_at`)} as cursor_us`;

export function findMember(tx: Tx, challengeId: string, userId: string) {
  return tx.one<MemberRow>(sql`
    select ${memberColumns} from challenge_members m join user_profiles p on p.user_id = m.user_id
    where m.challenge_id = ${challengeId} and m.user_id = ${userId}`);
}

/** Active members in joining order. */
export function listActiveMembers(tx: Tx, challengeId: string, opts: { limit: number; cursor?: Keyset }) {
  return tx.query<MemberRow>(sql`
    select ${memberColumns} from challenge_members m join user_profiles p on p.user_id = m.user_id
    where m.challenge_id = ${challengeId} and m.status = 'active'
      and ${after(sql`m.joined_at`, sql`m.user_id`, opts.cursor, 'asc')}
    order by m.joined_at, m.user_id
    limit ${opts.limit + 1}`);
}

/** Every active member (bounded by max_members; program cohorts by the organization's plan). */
export function allActiveMembers(tx: Tx, challengeId: string) {
  return tx.query<MemberRow>(sql`
    select ${memberColumns} from challenge_members m join user_profiles p on p.user_id = m.user_id
    where m.challenge_id = ${challengeId} and m.status = 'active'
    order by m.joined_at, m.user_id`);
}

/** Active creator and admins: who hears about people joining and leaving. */
export async function managerIds(tx: Tx, challengeId: string): Promise<string[]> {
  const rows = await tx.query<{ user_id: string }>(sql`
    select user_id from challenge_members
    where challenge_id = ${challengeId} and status = 'active' and role in ('creator', 'admin')`);
  return rows.map((r) => r.user_id);
}

/** My own row, whatever its status (own rows are always readable). */
export function myRole(tx: Tx, challengeId: string, me: string) {
  return tx.one<{ role: MemberRole; status: MemberStatus }>(sql`
    select role, status from challenge_members where challenge_id = ${challengeId} and user_id = ${me}`);
}

/**
 * The trigger on challenge_members recounts member_count under the challenge row's lock; the
 * challenges_capacity check (23514) is what makes "full" hold under concurrent joins.
 */
export async function insertMember(tx: Tx, challengeId: string, userId: string, role: MemberRole) {
  await tx.execute(sql`insert into challenge_members (challenge_id, user_id, role) values (${challengeId}, ${userId}, ${role})`);
}

/** Rejoining after leaving: the same row comes back (points and history kept; a streak has lapsed anyway). */
export async function reactivateMember(tx: Tx, challengeId: string, userId: string, role: MemberRole) {
  await tx.execute(sql`
    update challenge_members set status = 'active', role = ${role}, left_at = null, joined_at = now()
    where challenge_id = ${challengeId} and user_id = ${userId} and status = 'left'`);
}

export function endMembership(tx: Tx, challengeId: string, userId: string, status: 'left' | 'kicked') {
  return tx.execute(sql`
    update challenge_members set status = ${status}, left_at = now()
    where challenge_id = ${challengeId} and user_id = ${userId} and status = 'active'`);
}

/**
 * Active member count, read under the lock the join trigger takes (FOR NO KEY UPDATE), so a join
 * racing the creator's leave is either counted here or sees the creator gone. Needs admin rights
 * (the caller must be able to update the challenge), which the creator has.
 */
export async function lockedMemberCount(tx: Tx, challengeId: string): Promise<number> {
  const row = await tx.one<{ member_count: number }>(sql`
    select member_count from challenges where id = ${challengeId} for no key update`);
  return row?.member_count ?? 0;
}
