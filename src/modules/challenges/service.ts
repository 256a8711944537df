// Challenge rules (§3): creation, listing, reading and editing. Membership: membership-service.ts;
// progress and check-in feeds: activity-service.ts.
import type { FastifyInstance } from 'fastify';
import { AppError, forbidden, invalid, notFound } from '../../errors.js';
import { toPage } from '../../lib/pagination.js';
import { PG, pgConstraint, pgErrorCode, type Tx } from '../../db/database.js';
import { visibleHabitIds } from '../habits/repository.js';
import { decodeKeyset, keyOf } from './keyset.js';
import { addDays, localDate, utcDate } from './local-dates.js';
import { retryTransient } from './retry.js';
import { insertMember } from './members-repository.js';
import * as repo from './repository.js';

/** Set by jobs once a challenge is over; nothing joins, edits or checks in after that. */
export const ENDED: ReadonlySet<repo.StoredStatus> = new Set(['completed', 'failed', 'archived']);
export const MAX_DURATION_DAYS = 365;
const DEFAULT_GROUP_MAX_MEMBERS = 10;
const INVITE_CODE_ATTEMPTS = 3;

export const todayUtc = (app: FastifyInstance) => utcDate(app.clock.now());

export function challengeToApi(row: repo.ChallengeRow, habits: repo.ChallengeHabitRow[]) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    status: row.status,
    start_date: row.start_date,
    end_date: row.end_date,
    max_members: row.max_members,
    member_count: row.member_count,
    checkin_type: row.checkin_type,
    require_evidence: row.require_evidence,
    is_public: row.is_public,
    invite_code: row.invite_code,
    created_by: row.created_by,
    organization_id: row.organization_id,
    program_id: row.program_id,
    habits: habits
      .filter((h) => h.challenge_id === row.id)
      .map(({ id, name, icon, description, category, is_system, total_check_ins }) => ({
        id, name, icon, description, category, is_system, total_check_ins,
      })),
    my_role: row.my_status === 'active' ? row.my_role : null,
    my_status: row.my_status,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** The challenge as the caller sees it (404 when row-level security hides it). */
export async function loadVisible(app: FastifyInstance, tx: Tx, id: string, me: string) {
  const row = await repo.findChallenge(tx, id, me, todayUtc(app));
  if (!row) throw notFound('challenge');
  return row;
}

export async function readChallenge(app: FastifyInstance, tx: Tx, id: string, me: string) {
  const row = await loadVisible(app, tx, id, me);
  return challengeToApi(row, await repo.habitsOf(tx, [id]));
}

/** start < end ≤ start + 365 days. */
function checkDateRange(start: string, end: string) {
  if (end <= start) throw invalid('body.end_date', 'must be after start_date');
  if (end > addDays(start, MAX_DURATION_DAYS)) throw invalid('body.end_date', `must be at most ${MAX_DURATION_DAYS} days after start_date`);
}

export interface CreateChallengeInput {
  name: string;
  description?: string;
  type: 'individual' | 'group' | 'program';
  start_date: string;
  end_date: string;
  habit_ids: string[];
  max_members?: number;
  checkin_type: repo.CheckinType;
  require_evidence?: boolean;
  is_public?: boolean;
  organization_id?: string;
}

function newChallenge(body: CreateChallengeInput): repo.NewChallenge {
  if (body.type === 'program') throw invalid('body.type', 'program challenges are created by organization programs');
  const name = body.name.trim();
  if (name.length < 3) throw invalid('body.name', 'must have at least 3 characters besides spaces');
  checkDateRange(body.start_date, body.end_date);
  if (body.type === 'individual' && body.max_members !== undefined && body.max_members !== 1) {
    throw invalid('body.max_members', 'must be 1 for an individual challenge');
  }
  return {
    name,
    description: body.description?.trim() || null,
    type: body.type,
    start_date: body.start_date,
    end_date: body.end_date,
    max_members: body.max_members ?? (body.type === 'individual' ? 1 : DEFAULT_GROUP_MAX_MEMBERS),
    checkin_type: body.checkin_type,
    require_evidence: body.require_evidence ?? false,
    is_public: body.is_public ?? false,
    organization_id: body.organization_id ?? null,
  };
}

const isInviteCodeClash = (err: unknown) =>
  pgErrorCode(err) === PG.UNIQUE_VIOLATION && pgConstraint(err) === 'challenges_invite_code_key';

export async function createChallenge(app: FastifyInstance, me: string, body: CreateChallengeInput) {
  const fields = newChallenge(body);
  // 40 random bits make a clash very unlikely, not impossible: a clash re-runs the transaction and
  // the column default draws a new code.
  for (let attempt = 1; ; attempt++) {
    try {
      return await retryTransient(() =>
        app.db.withUser(me, async (tx) => {
          const { timezone } = await repo.profileOf(tx, me);
          if (fields.start_date < localDate(app.clock.now(), timezone)) {
            throw invalid('body.start_date', 'must not be before your local today');
          }
          const visible = await visibleHabitIds(tx, body.habit_ids);
          const unknown = body.habit_ids.filter((id) => !visible.has(id));
          if (unknown.length > 0) throw invalid('body.habit_ids', `unknown habits: ${unknown.join(', ')}`);
          if (fields.organization_id && !(await repo.isOrgMember(tx, fields.organization_id))) {
            throw invalid('body.organization_id', 'is not an organization you belong to');
          }
          const id = await repo.insertChallenge(tx, me, fields);
          await insertMember(tx, id, me, 'creator');
          await repo.insertChallengeHabits(tx, id, body.habit_ids);
          return readChallenge(app, tx, id, me);
        }),
      );
    } catch (err) {
      if (attempt < INVITE_CODE_ATTEMPTS && isInviteCodeClash(err)) continue;
      throw err;
    }
  }
}

export async function listChallenges(
  app: FastifyInstance,
  me: string,
  query: { limit: number; cursor?: string; status?: repo.StoredStatus },
) {
  const cursor = decodeKeyset(query.cursor);
  return app.db.withUser(me, async (tx) => {
    const rows = await repo.listMyChallenges(tx, me, todayUtc(app), { status: query.status, limit: query.limit, cursor });
    const page = toPage(rows, query.limit, keyOf);
    const habits = await repo.habitsOf(tx, page.items.map((r) => r.id));
    return { items: page.items.map((r) => challengeToApi(r, habits)), next_cursor: page.next_cursor };
  });
}

export function getChallenge(app: FastifyInstance, me: string, id: string) {
  return app.db.withUser(me, (tx) => readChallenge(app, tx, id, me));
}

/** Active creator or admin; members get 403, everyone else 404 (existence is not theirs to learn). */
export function requireManager(row: repo.ChallengeRow) {
  if (row.my_status !== 'active') throw notFound('challenge');
  if (row.my_role !== 'creator' && row.my_role !== 'admin') throw forbidden('Only the challenge creator or its admins can do this');
}

function checkChanges(row: repo.ChallengeRow, body: repo.ChallengeChanges, today: string): repo.ChallengeChanges {
  const changes: repo.ChallengeChanges = { ...body };
  if (body.name !== undefined) {
    changes.name = body.name.trim();
    if (changes.name.length < 3) throw invalid('body.name', 'must have at least 3 characters besides spaces');
  }
  if (body.description !== undefined) changes.description = body.description?.trim() || null;
  if (body.start_date !== undefined && body.start_date !== row.start_date) {
    if (row.status !== 'pending') throw invalid('body.start_date', 'cannot change once the challenge has started');
    if (body.start_date < today) throw invalid('body.start_date', 'must not be before your local today');
  }
  if (body.end_date !== undefined && body.end_date !== row.end_date && body.end_date < today) {
    throw invalid('body.end_date', 'must not be before your local today');
  }
  checkDateRange(body.start_date ?? row.start_date, body.end_date ?? row.end_date);
  if (body.max_members !== undefined) {
    if (row.type === 'individual' && body.max_members !== 1) throw invalid('body.max_members', 'must be 1 for an individual challenge');
    if (body.max_members < row.member_count) throw invalid('body.max_members', `is below the current ${row.member_count} members`);
  }
  return changes;
}

export async function updateChallenge(app: FastifyInstance, me: string, id: string, body: repo.ChallengeChanges) {
  return retryTransient(() =>
    app.db.withUser(me, async (tx) => {
      const row = await loadVisible(app, tx, id, me);
      requireManager(row);
      if (ENDED.has(row.stored_status)) throw new AppError('CHALLENGE_ENDED', 'This challenge has ended and can no longer be edited');
      const { timezone } = await repo.profileOf(tx, me);
      const changes = checkChanges(row, body, localDate(app.clock.now(), timezone));
      try {
        await repo.updateChallenge(tx, id, changes);
      } catch (err) {
        // A join that landed after our read can still make the new max_members too small.
        if (pgConstraint(err) === 'challenges_capacity') throw invalid('body.max_members', 'is below the current number of members');
        throw err;
      }
      return readChallenge(app, tx, id, me);
    }),
  );
}
