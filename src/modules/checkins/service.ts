// Check-ins (§3). One transaction inserts the check-in and moves every counter it affects (member,
// profile, challenge habit) and, at a streak milestone, creates the notification: they can never
// disagree. "Today" is the user's local date from their profile time zone and the injected clock.
import type { FastifyInstance } from 'fastify';
import { AppError, invalid, notFound } from '../../errors.js';
import { toPage } from '../../lib/pagination.js';
import { PG, pgConstraint, pgErrorCode, type Tx } from '../../db/database.js';
import { decodeKeyset, keyOf } from '../challenges/keyset.js';
import { addDays, localDate } from '../challenges/local-dates.js';
import { profileOf } from '../challenges/repository.js';
import { retryTransient } from '../challenges/retry.js';
import { ENDED } from '../challenges/service.js';
import { notify } from '../notifications/service.js';
import { checkEvidence } from './evidence.js';
import * as repo from './repository.js';
import { advanceStreak, milestoneReached, pointsFor } from './streaks.js';

export function checkinToApi(row: repo.CheckinRow) {
  return {
    id: row.id,
    challenge_id: row.challenge_id,
    habit_id: row.habit_id,
    user_id: row.user_id,
    local_date: row.local_date,
    caption: row.caption,
    photo_media_id: row.photo_media_id,
    video_media_id: row.video_media_id,
    points_earned: row.points_earned,
    streak_after: row.streak_after,
    created_at: row.created_at.toISOString(),
  };
}

export interface CreateCheckinInput {
  challenge_id: string;
  habit_id: string;
  caption?: string;
  photo_media_id?: string;
  video_media_id?: string;
}

const duplicate = () => new AppError('DUPLICATE_CHECK_IN', 'You already checked in this habit today');

export async function createCheckin(app: FastifyInstance, me: string, body: CreateCheckinInput) {
  try {
    return await retryTransient(() => app.db.withUser(me, (tx) => checkIn(app, tx, me, body)));
  } catch (err) {
    if (pgErrorCode(err) === PG.UNIQUE_VIOLATION && pgConstraint(err) === 'check_ins_once_per_day') throw duplicate();
    throw err;
  }
}

async function checkIn(app: FastifyInstance, tx: Tx, me: string, body: CreateCheckinInput) {
  const profile = await repo.lockProfile(tx, me);
  if (!profile) throw notFound('profile');
  const today = localDate(app.clock.now(), profile.timezone);

  const target = await repo.findTarget(tx, body.challenge_id, body.habit_id, me);
  if (!target || target.my_status !== 'active') throw notFound('challenge');
  if (!target.has_habit) throw invalid('body.habit_id', 'is not a habit of this challenge');
  if (ENDED.has(target.status) || today < target.start_date || today > target.end_date) {
    throw new AppError('CHALLENGE_NOT_ACTIVE', `Check-ins are open from ${target.start_date} to ${target.end_date} (your local dates); today is ${today}`);
  }
  const evidence = {
    caption: body.caption?.trim() || null,
    photoMediaId: body.photo_media_id ?? null,
    videoMediaId: body.video_media_id ?? null,
  };
  const mediaIds = [evidence.photoMediaId, evidence.videoMediaId].filter((id): id is string => id !== null);
  checkEvidence(target, evidence, await repo.ownedMediaKinds(tx, me, mediaIds));

  const member = (await repo.lockMember(tx, body.challenge_id, me))!;
  const memberStep = advanceStreak(
    { current: member.current_streak, longest: member.longest_streak, lastDate: member.last_check_in_date },
    today,
  );
  const profileStep = advanceStreak(
    { current: profile.current_streak, longest: profile.longest_streak, lastDate: await repo.lastCheckinDate(tx, me) },
    today,
  );
  const points = pointsFor(memberStep);

  const row = await repo.insertCheckin(tx, {
    challengeId: body.challenge_id,
    habitId: body.habit_id,
    userId: me,
    localDate: today,
    ...evidence,
    points,
    streakAfter: memberStep.current,
  });
  await repo.bumpMember(tx, body.challenge_id, me, { ...memberStep, points });
  await repo.bumpChallengeHabit(tx, body.challenge_id, body.habit_id);
  await repo.bumpProfile(tx, me, { current: profileStep.current, longest: profileStep.longest, points });

  const milestone = milestoneReached(memberStep);
  if (milestone !== null) {
    // Keyed by the streak's first day: the same streak is celebrated once; a new streak may earn it again.
    const streakStart = addDays(today, 1 - milestone);
    await notify(tx, [
      {
        userId: me,
        type: 'streak_milestone',
        title: `${milestone}-day streak!`,
        body: `You have checked in ${milestone} days in a row in "${target.name}".`,
        data: { challenge_id: body.challenge_id, streak: milestone },
        dedupeKey: `streak:${body.challenge_id}:${milestone}:${streakStart}`,
      },
    ]);
  }
  return { checkin: checkinToApi(row), new_streak: memberStep.current, points_earned: points, streak_broken: memberStep.broken };
}

function checkRange(from?: string, to?: string) {
  if (from && to && from > to) throw invalid('query.to', 'must not be before from');
}

export async function listMyCheckins(
  app: FastifyInstance,
  me: string,
  query: { limit: number; cursor?: string; challenge_id?: string; from?: string; to?: string },
) {
  checkRange(query.from, query.to);
  const cursor = decodeKeyset(query.cursor);
  const rows = await app.db.withUser(me, (tx) =>
    repo.listCheckins(tx, { userId: me, challengeId: query.challenge_id, from: query.from, to: query.to }, query.limit, cursor),
  );
  const page = toPage(rows, query.limit, keyOf);
  return { items: page.items.map(checkinToApi), next_cursor: page.next_cursor };
}

/** A challenge's feed, for its active members (the caller has been checked by the route's service). */
export async function listChallengeCheckins(
  tx: Tx,
  challengeId: string,
  query: { limit: number; cursor?: string; user_id?: string; habit_id?: string; from?: string; to?: string },
) {
  checkRange(query.from, query.to);
  const cursor = decodeKeyset(query.cursor);
  const filters = { challengeId, userId: query.user_id, habitId: query.habit_id, from: query.from, to: query.to };
  const page = toPage(await repo.listCheckins(tx, filters, query.limit, cursor), query.limit, keyOf);
  return { items: page.items.map(checkinToApi), next_cursor: page.next_cursor };
}

export async function today(app: FastifyInstance, me: string) {
  return app.db.withUser(me, async (tx) => {
    const { timezone } = await profileOf(tx, me);
    const date = localDate(app.clock.now(), timezone);
    const checkins = await repo.myCheckinsOn(tx, me, date);
    return { local_date: date, checkins: checkins.map(checkinToApi), remaining: await repo.remainingOn(tx, me, date) };
  });
}
