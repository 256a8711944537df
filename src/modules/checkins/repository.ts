// Check-in SQL. Lock order inside a check-in transaction is fixed (the user's profile row, then their
// member row, then the challenge_habits row) so concurrent check-ins queue instead of deadlocking.
import { sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../../db/database.js';
import { after, micros, type Keyset } from '../challenges/keyset.js';
import type { CheckinType, MemberStatus, StoredStatus } from '../challenges/repository.js';

export interface CheckinRow {
  id: string;
  challenge_id: string;
  habit_id: string;
  user_id: string;
  local_date: string;
  caption: string | null;
  photo_media_id: string | null;
  video_media_id: string | null;
  points_earned: number;
  streak_after: number;
  created_at: Date;
  cursor_us: number;
}

const columns = sql`k.id, k.challenge_id, k.habit_id, k.user_id, k.local_date, k.caption, k.photo_media_id,
  k.video_media_id, k.points_earned, k.streak_after, k.created_at, ${micros(sql`k.created_at`)} as cursor_us`;

export interface ProfileCounters {
  timezone: string;
  current_streak: number;
  longest_streak: number;
}

/** Serializes one user's check-ins (the profile counters are per user). */
export function lockProfile(tx: Tx, userId: string) {
  return tx.one<ProfileCounters>(sql`
    select timezone, current_streak, longest_streak from user_profiles where user_id = ${userId} for no key update`);
}

export interface CheckinTarget {
  status: StoredStatus;
  name: string;
  start_date: string;
  end_date: string;
  checkin_type: CheckinType;
  require_evidence: boolean;
  my_status: MemberStatus | null;
  has_habit: boolean;
}

export function findTarget(tx: Tx, challengeId: string, habitId: string, userId: string) {
  return tx.one<CheckinTarget>(sql`
    select c.status, c.name, c.start_date, c.end_date, c.checkin_type, c.require_evidence, m.status as my_status,
           exists (select 1 from challenge_habits ch where ch.challenge_id = c.id and ch.habit_id = ${habitId}) as has_habit
    from challenges c
    left join challenge_members m on m.challenge_id = c.id and m.user_id = ${userId}
    where c.id = ${challengeId}`);
}

/** Kinds of the given media ids that the user owns (others' media may be readable, never usable). */
export async function ownedMediaKinds(tx: Tx, userId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query<{ id: string; kind: string }>(sql`
    select id, kind from media where owner_id = ${userId} and id = any(${sql.param(ids)}::uuid[])`);
  return new Map(rows.map((r) => [r.id, r.kind]));
}

export interface MemberCounters {
  current_streak: number;
  longest_streak: number;
  last_check_in_date: string | null;
}

export function lockMember(tx: Tx, challengeId: string, userId: string) {
  return tx.one<MemberCounters>(sql`
    select current_streak, longest_streak, last_check_in_date from challenge_members
    where challenge_id = ${challengeId} and user_id = ${userId} for no key update`);
}

/** The user's latest check-in day across all challenges (their daily streak on the profile). */
export async function lastCheckinDate(tx: Tx, userId: string): Promise<string | null> {
  const row = await tx.one<{ d: string | null }>(sql`select max(local_date) as d from check_ins where user_id = ${userId}`);
  return row?.d ?? null;
}

export interface NewCheckin {
  challengeId: string;
  habitId: string;
  userId: string;
  localDate: string;
  caption: string | null;
  photoMediaId: string | null;
  videoMediaId: string | null;
  points: number;
  streakAfter: number;
}

/** Fails with 23505 on check_ins_once_per_day when this habit already has today's check-in. */
export async function insertCheckin(tx: Tx, c: NewCheckin): Promise<CheckinRow> {
  const row = await tx.one<CheckinRow>(sql`
    insert into check_ins as k (challenge_id, habit_id, user_id, local_date, caption, photo_media_id, video_media_id,
                                points_earned, streak_after)
    values (${c.challengeId}, ${c.habitId}, ${c.userId}, ${c.localDate}, ${c.caption}, ${c.photoMediaId},
            ${c.videoMediaId}, ${c.points}, ${c.streakAfter})
    returning ${columns}`);
  return row!;
}

export interface CounterUpdate {
  current: number;
  longest: number;
  lastDate: string;
  points: number;
}

export async function bumpMember(tx: Tx, challengeId: string, userId: string, u: CounterUpdate) {
  await tx.execute(sql`
    update challenge_members
    set current_streak = ${u.current}, longest_streak = ${u.longest}, last_check_in_date = ${u.lastDate},
        points = points + ${u.points}, total_check_ins = total_check_ins + 1
    where challenge_id = ${challengeId} and user_id = ${userId}`);
}

export async function bumpChallengeHabit(tx: Tx, challengeId: string, habitId: string) {
  await tx.execute(sql`
    update challenge_habits set total_check_ins = total_check_ins + 1
    where challenge_id = ${challengeId} and habit_id = ${habitId}`);
}

export async function bumpProfile(tx: Tx, userId: string, u: Omit<CounterUpdate, 'lastDate'>) {
  await tx.execute(sql`
    update user_profiles
    set current_streak = ${u.current}, longest_streak = ${u.longest}, points = points + ${u.points},
        total_check_ins = total_check_ins + 1, updated_at = now()
    where user_id = ${userId}`);
}

export interface CheckinFilters {
  challengeId?: string;
  userId?: string;
  habitId?: string;
  from?: string;
  to?: string;
}

function filterSql(f: CheckinFilters): SQL {
  const parts: SQL[] = [sql`true`];
  if (f.challengeId) parts.push(sql`k.challenge_id = ${f.challengeId}`);
  if (f.userId) parts.push(sql`k.user_id = ${f.userId}`);
  if (f.habitId) parts.push(sql`k.habit_id = ${f.habitId}`);
  if (f.from) parts.push(sql`k.local_date >= ${f.from}::date`);
  if (f.to) parts.push(sql`k.local_date <= ${f.to}::date`);
  return sql.join(parts, sql` and `);
}

/** Newest first. Visibility is RLS's: my own, and those of challenges where I am an active member. */
export function listCheckins(tx: Tx, filters: CheckinFilters, limit: number, cursor?: Keyset) {
  return tx.query<CheckinRow>(sql`
    select ${columns} from check_ins k
    where ${filterSql(filters)} and ${after(sql`k.created_at`, sql`k.id`, cursor, 'desc')}
    order by k.created_at desc, k.id desc
    limit ${limit + 1}`);
}

/** Check-ins of a challenge on any of the given local dates (members' "today" differ by zone). */
export function checkinsOnDates(tx: Tx, challengeId: string, dates: string[]) {
  return tx.query<CheckinRow>(sql`
    select ${columns} from check_ins k
    where k.challenge_id = ${challengeId} and k.local_date = any(${sql.param(dates)}::date[])`);
}

export function myCheckinsOn(tx: Tx, userId: string, date: string) {
  return tx.query<CheckinRow>(sql`
    select ${columns} from check_ins k where k.user_id = ${userId} and k.local_date = ${date}::date
    order by k.created_at, k.id`);
}

/** Habits of my challenges open for check-ins on `date` that I have not checked in yet. */
export function remainingOn(tx: Tx, userId: string, date: string) {
  return tx.query<{ challenge_id: string; challenge_name: string; habit_id: string; habit_name: string }>(sql`
    select c.id as challenge_id, c.name as challenge_name, h.id as habit_id, h.name as habit_name
    from challenge_members m
    join challenges c on c.id = m.challenge_id
    join challenge_habits ch on ch.challenge_id = c.id
    join habits h on h.id = ch.habit_id
    where m.user_id = ${userId} and m.status = 'active'
      and c.status in ('pending', 'active') and c.start_date <= ${date}::date and c.end_date >= ${date}::date
      and not exists (select 1 from check_ins k where k.challenge_id = c.id and k.habit_id = h.id
                      and k.user_id = ${userId} and k.local_date = ${date}::date)
    order by c.created_at, c.id, ch.position`);
}
