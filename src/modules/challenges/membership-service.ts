// Joining, leaving and removing members (§3), with the notifications these events send: the
// challenge's active creator and admins hear about joins and departures (they manage the roster;
// telling every member about every change would be noise), and a removed member is told.
import type { FastifyInstance } from 'fastify';
import { AppError, forbidden, invalid, notFound } from '../../errors.js';
import { toPage } from '../../lib/pagination.js';
import { PG, pgConstraint, pgErrorCode, type Tx } from '../../db/database.js';
import { notify } from '../notifications/service.js';
import { liveStreak } from '../checkins/streaks.js';
import { decodeKeyset, keyOf } from './keyset.js';
import { localDate } from './local-dates.js';
import { retryTransient } from './retry.js';
import * as members from './members-repository.js';
import { profileOf, type ChallengeRow, type MemberRole } from './repository.js';
import { ENDED, loadVisible, readChallenge, requireManager } from './service.js';

const full = () => new AppError('CHALLENGE_FULL', 'This challenge has no free places');

async function addMembership(tx: Tx, challengeId: string, me: string, rejoining: boolean, role: MemberRole) {
  try {
    if (rejoining) await members.reactivateMember(tx, challengeId, me, role);
    else await members.insertMember(tx, challengeId, me, role);
  } catch (err) {
    // The capacity check on the recounted member_count: another join took the last place first.
    if (pgConstraint(err) === 'challenges_capacity') throw full();
    if (pgErrorCode(err) === PG.UNIQUE_VIOLATION) throw new AppError('ALREADY_MEMBER', 'You are already a member of this challenge');
    throw err;
  }
}

async function tellManagers(tx: Tx, challenge: ChallengeRow, me: string, displayName: string, event: 'joined' | 'left') {
  const recipients = (await members.managerIds(tx, challenge.id)).filter((id) => id !== me);
  await notify(
    tx,
    recipients.map((userId) => ({
      userId,
      type: `member_${event}`,
      title: `${displayName} ${event} "${challenge.name}"`,
      data: { challenge_id: challenge.id, user_id: me },
    })),
  );
}

export async function joinChallenge(app: FastifyInstance, me: string, inviteCode: string) {
  const code = inviteCode.trim().toUpperCase();
  return retryTransient(() =>
    app.db.withUser(me, async (tx) => {
      const target = await members.findByInviteCode(tx, code);
      if (!target) throw notFound('challenge');
      if (target.my_status === 'active') throw new AppError('ALREADY_MEMBER', 'You are already a member of this challenge');
      if (target.my_status === 'kicked') throw forbidden('You were removed from this challenge and cannot rejoin it');
      const profile = await profileOf(tx, me);
      if (ENDED.has(target.status) || target.end_date < localDate(app.clock.now(), profile.timezone)) {
        throw new AppError('CHALLENGE_ENDED', 'This challenge has ended');
      }
      // A creator who left gets their role back; anyone else (a former admin too) rejoins as a member.
      const previous = target.my_status === 'left' ? await members.myRole(tx, target.id, me) : undefined;
      const role: MemberRole = previous?.role === 'creator' ? 'creator' : 'member';
      // An individual challenge is its creator's alone, even while they are away from it.
      if (target.type === 'individual' && role !== 'creator') throw full();
      if (target.type !== 'program' && target.member_count >= target.max_members) throw full();
      await addMembership(tx, target.id, me, previous !== undefined, role);
      const challenge = await loadVisible(app, tx, target.id, me);
      await tellManagers(tx, challenge, me, profile.display_name, 'joined');
      return readChallenge(app, tx, target.id, me);
    }),
  );
}

export async function leaveChallenge(app: FastifyInstance, me: string, id: string) {
  await retryTransient(() =>
    app.db.withUser(me, async (tx) => {
      const challenge = await loadVisible(app, tx, id, me);
      if (challenge.my_status !== 'active') throw notFound('challenge');
      // Stricter than "active" alone: a pending group challenge whose creator left would have members
      // but nobody able to edit it or remove anyone.
      if (challenge.created_by === me && challenge.type !== 'individual' && !ENDED.has(challenge.stored_status)) {
        if ((await members.lockedMemberCount(tx, id)) > 1) {
          throw new AppError('CREATOR_CANNOT_LEAVE', 'The creator cannot leave while other members remain');
        }
      }
      await members.endMembership(tx, id, me, 'left');
      const { display_name } = await profileOf(tx, me);
      await tellManagers(tx, challenge, me, display_name, 'left');
    }),
  );
}

export async function removeMember(app: FastifyInstance, me: string, id: string, userId: string) {
  await retryTransient(() =>
    app.db.withUser(me, async (tx) => {
      const challenge = await loadVisible(app, tx, id, me);
      requireManager(challenge);
      if (userId === me) throw invalid('params.user_id', 'to leave a challenge use POST /challenges/{id}/leave');
      const target = await members.findMember(tx, id, userId);
      if (!target || target.status !== 'active') throw notFound('member');
      if (userId === challenge.created_by) throw forbidden('The creator cannot be removed');
      if (target.role === 'admin' && challenge.my_role !== 'creator') throw forbidden('Only the creator can remove an admin');
      await members.endMembership(tx, id, userId, 'kicked');
      await notify(tx, [
        {
          userId,
          type: 'member_removed',
          title: `You were removed from "${challenge.name}"`,
          data: { challenge_id: id },
        },
      ]);
    }),
  );
}

export function memberToApi(row: members.MemberRow, now: Date) {
  return {
    user_id: row.user_id,
    display_name: row.display_name,
    avatar_media_id: row.avatar_media_id,
    role: row.role,
    status: row.status,
    joined_at: row.joined_at.toISOString(),
    current_streak: liveStreak(row.current_streak, row.last_check_in_date, localDate(now, row.timezone)),
    longest_streak: row.longest_streak,
    points: row.points,
    total_check_ins: row.total_check_ins,
    last_check_in_date: row.last_check_in_date,
  };
}

/** Active members of a challenge the caller can see. */
export async function listMembers(app: FastifyInstance, me: string, id: string, query: { limit: number; cursor?: string }) {
  const cursor = decodeKeyset(query.cursor);
  return app.db.withUser(me, async (tx) => {
    await loadVisible(app, tx, id, me);
    const rows = await members.listActiveMembers(tx, id, { limit: query.limit, cursor });
    const page = toPage(rows, query.limit, (r) => keyOf({ cursor_us: r.cursor_us, id: r.user_id }));
    const now = app.clock.now();
    return { items: page.items.map((r) => memberToApi(r, now)), next_cursor: page.next_cursor };
  });
}
