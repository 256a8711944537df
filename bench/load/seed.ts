// The data a load run starts from, written straight into the database before the server starts
// (the API cannot create history: check-ins are only ever for today). N users in groups of
// BENCH_GROUP_SIZE; each group shares a 3-habit challenge that started BENCH_HISTORY_DAYS ago, and
// a 2-habit challenge with the next group (started half as long ago), so every user is in three
// challenges with history, plus one that starts today and that everyone but its creator joins
// through the API with its invite code (load.ts). Check-ins: each user keeps each habit on a share
// of past days (their "diligence", 50–95 %), with streaks, points and counters computed by the
// app's own rules (checkins/streaks.ts), so the server sees consistent state. Notifications: a
// dozen per user over the history, the older ones read. A fixed PRNG seed makes runs comparable.
import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { Database, Tx } from '../../src/db/database.js';
import { addDays, localDate } from '../../src/modules/challenges/local-dates.js';
import { advanceStreak, milestoneReached, pointsFor, type StreakState } from '../../src/modules/checkins/streaks.js';

export const FIRST_NAMES = ['Alex', 'Bea', 'Carlos', 'Dana', 'Emeka', 'Fatima', 'Gus', 'Hana', 'Ivan', 'Jules', 'Kofi', 'Lena', 'Mara', 'Noor', 'Olek', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tariq'];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Europe/London'];

export interface SeedChallenge {
  id: string;
  habits: string[];
  inviteCode: string;
}

export interface SeedUser {
  index: number;
  id: string;
  email: string;
  /** Challenges the user is a member of after seeding. */
  challenges: SeedChallenge[];
  /** A challenge to join through the API at start-up (null for its creator). */
  toJoin: SeedChallenge | null;
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function insertRows(tx: Tx, head: SQL, rows: SQL[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 400) await tx.execute(sql`${head} values ${sql.join(rows.slice(i, i + 400), sql`, `)}`);
}

/** Read an hour after it arrived, unless it arrived in the last two days. */
const notification = (userId: string, type: string, title: string, day: string, today: string) =>
  sql`(${userId}::uuid, ${type}, ${title}, ${`${day}T09:00:00Z`}::timestamptz, ${day < addDays(today, -2) ? `${day}T10:00:00Z` : null}::timestamptz)`;

interface Member {
  challenge: SeedChallenge;
  startDate: string;
  role: 'creator' | 'member';
  streak: StreakState;
  points: number;
  total: number;
}

export async function seed(db: Database, opts: { users: number; groupSize: number; historyDays: number; passwordHash: string }) {
  const random = prng(20261128);
  const now = new Date();
  const utcToday = localDate(now, 'UTC');
  const habits = (await db.withSystem((tx) => tx.query<{ id: string }>(sql`select id from habits where is_system order by name`))).map((h) => h.id);
  if (habits.length < 3) throw new Error('seed: the system habits are missing (migrations not applied?)');

  const users = Array.from({ length: opts.users }, (_, index) => ({
    index,
    id: randomUUID(),
    email: `load-${String(index).padStart(4, '0')}@bench.example.test`,
    name: `${FIRST_NAMES[index % FIRST_NAMES.length]} ${String(index).padStart(3, '0')}`,
    zone: ZONES[index % ZONES.length]!,
    diligence: 0.5 + random() * 0.45,
    members: [] as Member[],
  }));
  const groups: (typeof users)[] = [];
  for (let i = 0; i < users.length; i += opts.groupSize) groups.push(users.slice(i, i + opts.groupSize));

  const challengeRows: SQL[] = [];
  const habitRows: SQL[] = [];
  const newChallenge = (g: number, kind: 'A' | 'B' | 'C', creator: string, startDate: string, habitIds: string[], maxMembers: number) => {
    const id = randomUUID();
    const inviteCode = Array.from({ length: 8 }, () => 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[Math.floor(random() * 32)]).join('');
    const name = { A: `Group ${g} morning routine`, B: `Groups ${g}+ wellbeing`, C: `Group ${g} new month` }[kind];
    const [type, evidence] = kind === 'A' ? ['caption', true] : ['any', false];
    challengeRows.push(
      sql`(${id}::uuid, ${name}, 'Load-test challenge', 'group', 'active', ${startDate}::date, ${addDays(startDate, 60)}::date, ${maxMembers}, ${type}, ${evidence}, ${inviteCode}, ${creator}::uuid, ${`${startDate}T08:00:00Z`}::timestamptz)`,
    );
    habitIds.forEach((h, position) => habitRows.push(sql`(${id}::uuid, ${h}::uuid, ${position})`));
    return { id, habits: habitIds, inviteCode };
  };
  const historyStart = addDays(utcToday, -opts.historyDays);
  const pick = (g: number, n: number) => Array.from({ length: n }, (_, k) => habits[(g * 3 + k) % habits.length]!);
  const join = (u: (typeof users)[number], challenge: SeedChallenge, startDate: string, role: Member['role']) =>
    u.members.push({ challenge, startDate, role, streak: { current: 0, longest: 0, lastDate: null }, points: 0, total: 0 });

  const fresh: SeedChallenge[] = [];
  groups.forEach((group, g) => {
    const a = newChallenge(g, 'A', group[0]!.id, historyStart, pick(g, 3), 100);
    group.forEach((u, k) => join(u, a, historyStart, k === 0 ? 'creator' : 'member'));
    if (groups.length > 1) {
      const bStart = addDays(utcToday, -Math.ceil(opts.historyDays / 2));
      const b = newChallenge(g, 'B', group[0]!.id, bStart, pick(g + 1, 2), 100);
      const next = groups[(g + 1) % groups.length]!;
      for (const u of [...group, ...next]) join(u, b, bStart, u === group[0] ? 'creator' : 'member');
    }
    // Starts yesterday (UTC): "today" is within its dates in every user's zone.
    const c = newChallenge(g, 'C', group[0]!.id, addDays(utcToday, -1), pick(g + 2, 1), 100);
    join(group[0]!, c, addDays(utcToday, -1), 'creator');
    fresh[g] = c;
  });

  // History, day by day in each user's own zone, through the app's streak rules.
  const checkinRows: SQL[] = [];
  const notificationRows: SQL[] = [];
  const habitTotals = new Map<string, number>();
  const profiles = users.map((u) => {
    const today = localDate(now, u.zone);
    let profile: StreakState = { current: 0, longest: 0, lastDate: null };
    let points = 0;
    let total = 0;
    for (let day = historyStart; day < today; day = addDays(day, 1)) {
      for (const m of u.members) {
        if (day < m.startDate) continue;
        for (const habit of m.challenge.habits) {
          if (random() > u.diligence) continue;
          const step = advanceStreak(m.streak, day);
          const earned = pointsFor(step);
          m.streak = step;
          m.points += earned;
          m.total += 1;
          profile = advanceStreak(profile, day);
          points += earned;
          total += 1;
          const key = `${m.challenge.id}:${habit}`;
          habitTotals.set(key, (habitTotals.get(key) ?? 0) + 1);
          checkinRows.push(
            sql`(${m.challenge.id}::uuid, ${habit}::uuid, ${u.id}::uuid, ${day}::date, ${'Done!'}, ${earned}, ${step.current}, ${`${day}T12:00:00Z`}::timestamptz)`,
          );
          const milestone = milestoneReached(step);
          if (milestone !== null) {
            notificationRows.push(notification(u.id, 'streak_milestone', `${milestone}-day streak!`, day, today));
          }
        }
      }
    }
    for (let k = 0; k < 12; k++) {
      const day = addDays(today, -Math.floor(random() * opts.historyDays));
      const [type, title] = random() < 0.5 ? ['hitch', 'Someone nudged you'] : ['member_joined', 'A friend joined your challenge'];
      notificationRows.push(notification(u.id, type, title, day, today));
    }
    return { profile, points, total };
  });

  await db.withSystem(async (tx) => {
    await insertRows(tx, sql`insert into users (id, email, password_hash)`, users.map((u) => sql`(${u.id}::uuid, ${u.email}, ${opts.passwordHash})`));
    await insertRows(
      tx,
      sql`insert into user_profiles (user_id, display_name, timezone, current_streak, longest_streak, total_check_ins, points)`,
      users.map((u, i) => {
        const p = profiles[i]!;
        return sql`(${u.id}::uuid, ${u.name}, ${u.zone}, ${p.profile.current}, ${p.profile.longest}, ${p.total}, ${p.points})`;
      }),
    );
    await insertRows(
      tx,
      sql`insert into challenges (id, name, description, type, status, start_date, end_date, max_members, checkin_type, require_evidence, invite_code, created_by, created_at)`,
      challengeRows,
    );
    await insertRows(tx, sql`insert into challenge_habits (challenge_id, habit_id, position)`, habitRows);
    await insertRows(
      tx,
      sql`insert into challenge_members (challenge_id, user_id, role, joined_at, current_streak, longest_streak, points, total_check_ins, last_check_in_date)`,
      users.flatMap((u) =>
        u.members.map(
          (m) =>
            sql`(${m.challenge.id}::uuid, ${u.id}::uuid, ${m.role}, ${`${m.startDate}T08:00:00Z`}::timestamptz, ${m.streak.current}, ${m.streak.longest}, ${m.points}, ${m.total}, ${m.streak.lastDate}::date)`,
        ),
      ),
    );
    await insertRows(tx, sql`insert into check_ins (challenge_id, habit_id, user_id, local_date, caption, points_earned, streak_after, created_at)`, checkinRows);
    for (const [key, n] of habitTotals) {
      const [challengeId, habitId] = key.split(':');
      await tx.execute(sql`update challenge_habits set total_check_ins = ${n} where challenge_id = ${challengeId}::uuid and habit_id = ${habitId}::uuid`);
    }
    await insertRows(tx, sql`insert into notifications (user_id, type, title, created_at, read_at)`, notificationRows);
  }).catch((err: unknown) => {
    throw new Error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
  });

  const seeded: SeedUser[] = users.map((u) => ({
    index: u.index,
    id: u.id,
    email: u.email,
    challenges: u.members.map((m) => m.challenge),
    toJoin: u.members.some((m) => m.challenge === fresh[Math.floor(u.index / opts.groupSize)]) ? null : fresh[Math.floor(u.index / opts.groupSize)]!,
  }));
  return { users: seeded, checkins: checkinRows.length, notifications: notificationRows.length, challenges: challengeRows.length };
}
