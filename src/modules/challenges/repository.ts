// Challenge SQL (membership SQL: members-repository.ts). Every read relies on row-level security for
// visibility (public, member, organization) and adds the caller's own membership row.
import { sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';
import { after, micros, type Keyset } from './keyset.js';

export type StoredStatus = 'pending' | 'active' | 'completed' | 'failed' | 'archived';
export type MemberRole = 'creator' | 'admin' | 'member';
export type MemberStatus = 'active' | 'left' | 'kicked';
export type CheckinType = 'photo' | 'video' | 'caption' | 'any';

export interface ChallengeRow {
  id: string;
  name: string;
  description: string | null;
  type: 'individual' | 'group' | 'program';
  status: StoredStatus;
  stored_status: StoredStatus;
  start_date: string;
  end_date: string;
  max_members: number;
  member_count: number;
  checkin_type: CheckinType;
  require_evidence: boolean;
  is_public: boolean;
  invite_code: string;
  created_by: string;
  organization_id: string | null;
  program_id: string | null;
  my_role: MemberRole | null;
  my_status: MemberStatus | null;
  created_at: Date;
  updated_at: Date;
  cursor_us: number;
}

export interface ChallengeHabitRow {
  challenge_id: string;
  id: string;
  name: string;
  icon: string | null;
  description: string | null;
  category: string | null;
  is_system: boolean;
  total_check_ins: number;
}

/**
 * The status a reader sees. pending/active follow the dates (UTC day) whether or not the activation
 * job has run yet, so a read is never stale; completed/failed/archived are final and set by jobs.
 */
export const effectiveStatus = (todayUtc: string) => sql`
  case when c.status in ('pending', 'active')
       then case when c.start_date > ${todayUtc}::date then 'pending' else 'active' end
       else c.status end`;

const select = (me: string, todayUtc: string) => sql`
  select c.id, c.name, c.description, c.type, ${effectiveStatus(todayUtc)} as status, c.status as stored_status,
         c.start_date, c.end_date, c.max_members, c.member_count, c.checkin_type, c.require_evidence,
         c.is_public, c.invite_code, c.created_by, c.organization_id, c.program_id,
         m.role as my_role, m.status as my_status, c.created_at, c.updated_at,
         ${micros(sql`c.created_at`)} as cursor_us
  from challenges c
  left join challenge_members m on m.challenge_id = c.id and m.user_id = ${me}`;

export function findChallenge(tx: Tx, id: string, me: string, todayUtc: string) {
  return tx.one<ChallengeRow>(sql`${select(me, todayUtc)} where c.id = ${id}`);
}

/** Challenges I am an active member of, newest first. */
export function listMyChallenges(
  tx: Tx,
  me: string,
  todayUtc: string,
  opts: { status?: StoredStatus; limit: number; cursor?: Keyset },
) {
  const status: SQL = opts.status ? sql`${effectiveStatus(todayUtc)} = ${opts.status}` : sql`true`;
  return tx.query<ChallengeRow>(sql`
    ${select(me, todayUtc)}
    where m.status = 'active' and ${status}
      and ${after(sql`c.created_at`, sql`c.id`, opts.cursor, 'desc')}
    order by c.created_at desc, c.id desc
    limit ${opts.limit + 1}`);
}

export function habitsOf(tx: Tx, challengeIds: string[]) {
  if (challengeIds.length === 0) return Promise.resolve([]);
  return tx.query<ChallengeHabitRow>(sql`
    select ch.challenge_id, h.id, h.name, h.icon, h.description, h.category, h.is_system, ch.total_check_ins
    from challenge_habits ch join habits h on h.id = ch.habit_id
    where ch.challenge_id = any(${sql.param(challengeIds)}::uuid[])
    order by ch.challenge_id, ch.position, h.name`);
}

export interface NewChallenge {
  name: string;
  description: string | null;
  type: 'individual' | 'group';
  start_date: string;
  end_date: string;
  max_members: number;
  checkin_type: CheckinType;
  require_evidence: boolean;
  is_public: boolean;
  organization_id: string | null;
}

/** The invite code comes from the column default, app.new_invite_code(). */
export async function insertChallenge(tx: Tx, me: string, c: NewChallenge): Promise<string> {
  const row = await tx.one<{ id: string }>(sql`
    insert into challenges (name, description, type, start_date, end_date, max_members, checkin_type,
                            require_evidence, is_public, organization_id, created_by)
    values (${c.name}, ${c.description}, ${c.type}, ${c.start_date}, ${c.end_date}, ${c.max_members},
            ${c.checkin_type}, ${c.require_evidence}, ${c.is_public}, ${c.organization_id}, ${me})
    returning id`);
  return row!.id;
}

export async function insertChallengeHabits(tx: Tx, challengeId: string, habitIds: string[]) {
  const rows = habitIds.map((habitId, position) => sql`(${challengeId}, ${habitId}, ${position})`);
  await tx.execute(sql`insert into challenge_habits (challenge_id, habit_id, position) values ${sql.join(rows, sql`, `)}`);
}

export interface ChallengeChanges {
  name?: string;
  description?: string | null;
  start_date?: string;
  end_date?: string;
  max_members?: number;
  checkin_type?: CheckinType;
  require_evidence?: boolean;
  is_public?: boolean;
}

const UPDATABLE = ['name', 'description', 'start_date', 'end_date', 'max_members', 'checkin_type', 'require_evidence', 'is_public'] as const;

/** Column names come from the fixed list above, never from input; values are bind parameters. */
export async function updateChallenge(tx: Tx, id: string, changes: ChallengeChanges): Promise<void> {
  const sets = UPDATABLE.filter((column) => changes[column] !== undefined).map(
    (column) => sql`${sql.identifier(column)} = ${changes[column]}`,
  );
  await tx.execute(sql`update challenges set ${sql.join([...sets, sql`updated_at = now()`], sql`, `)} where id = ${id}`);
}

export async function isOrgMember(tx: Tx, organizationId: string): Promise<boolean> {
  const row = await tx.one<{ ok: boolean }>(sql`select app.is_org_member(${organizationId}) as ok`);
  return row?.ok === true;
}

export interface ProfileFacts {
  display_name: string;
  timezone: string;
}

export async function profileOf(tx: Tx, userId: string): Promise<ProfileFacts> {
  const row = await tx.one<ProfileFacts>(sql`select display_name, timezone from user_profiles where user_id = ${userId}`);
  return row ?? { display_name: 'Someone', timezone: 'UTC' };
}
