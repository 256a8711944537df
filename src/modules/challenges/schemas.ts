import { Type } from 'typebox';
import { LocalDate, Page, PageQuery, Timestamp, Uuid } from '../../lib/schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** A local calendar date with its own description (a shared schema cannot carry per-field text). */
const dateField = (description: string) => Type.String({ format: 'date', maxLength: 10, description });

const challengeType = (description?: string) =>
  Type.Union([Type.Literal('individual'), Type.Literal('group'), Type.Literal('program')], description ? { description } : {});
const challengeStatus = (description?: string) =>
  Type.Union(
    [Type.Literal('pending'), Type.Literal('active'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('archived')],
    description ? { description } : {},
  );
export const CheckinType = Type.Union([Type.Literal('photo'), Type.Literal('video'), Type.Literal('caption'), Type.Literal('any')]);
const MemberRole = Type.Union([Type.Literal('creator'), Type.Literal('admin'), Type.Literal('member')]);
const MemberStatus = Type.Union([Type.Literal('active'), Type.Literal('left'), Type.Literal('kicked')]);

export const ChallengeHabit = Type.Object({
  id: Uuid,
  name: Type.String(),
  icon: Nullable(Type.String()),
  description: Nullable(Type.String()),
  category: Nullable(Type.String()),
  is_system: Type.Boolean(),
  total_check_ins: Type.Integer({ description: 'Check-ins of this habit in this challenge, all members' }),
});

export const Challenge = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  type: challengeType(),
  status: challengeStatus(
    'pending before start_date and active from it (computed on read from the UTC date); completed/failed/archived once a job closes it',
  ),
  start_date: LocalDate,
  end_date: LocalDate,
  max_members: Type.Integer(),
  member_count: Type.Integer({ description: 'Active members' }),
  checkin_type: CheckinType,
  require_evidence: Type.Boolean(),
  is_public: Type.Boolean(),
  invite_code: Type.String({ description: '8 characters; share it to invite people' }),
  created_by: Uuid,
  organization_id: Nullable(Uuid),
  program_id: Nullable(Uuid),
  habits: Type.Array(ChallengeHabit),
  my_role: Nullable(MemberRole),
  my_status: Nullable(MemberStatus),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const CreateChallengeBody = Type.Object(
  {
    name: Type.String({ minLength: 3, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    type: challengeType('individual or group (program challenges are created by organization programs)'),
    start_date: dateField('Not before your local today'),
    end_date: dateField('After start_date, at most 365 days after it'),
    habit_ids: Type.Array(Uuid, { minItems: 1, maxItems: 10, uniqueItems: true, description: '1–10 distinct habits you can see' }),
    max_members: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Default 1 for individual (the only value allowed), 10 for group' })),
    checkin_type: CheckinType,
    require_evidence: Type.Optional(Type.Boolean({ default: false })),
    is_public: Type.Optional(Type.Boolean({ default: false })),
    organization_id: Type.Optional(Type.String({ format: 'uuid', description: 'An organization you belong to' })),
  },
  { additionalProperties: false },
);

export const UpdateChallengeBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 3, maxLength: 100 })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    start_date: Type.Optional(dateField('Only while the challenge is pending; not before your local today')),
    end_date: Type.Optional(dateField('After start_date, at most 365 days after it, not before your local today')),
    max_members: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    checkin_type: Type.Optional(CheckinType),
    require_evidence: Type.Optional(Type.Boolean()),
    is_public: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ChallengeListQuery = Type.Object(
  { ...PageQuery, status: Type.Optional(challengeStatus('Only challenges in this (effective) status')) },
  { additionalProperties: false },
);
export const ChallengePage = Page(Challenge);

export const JoinBody = Type.Object(
  { invite_code: Type.String({ minLength: 1, maxLength: 32, description: 'Case and surrounding spaces do not matter' }) },
  { additionalProperties: false },
);

export const MemberParams = Type.Object({ id: Uuid, user_id: Uuid }, { additionalProperties: false });

export const Member = Type.Object({
  user_id: Uuid,
  display_name: Type.String(),
  avatar_media_id: Nullable(Uuid),
  role: MemberRole,
  status: MemberStatus,
  joined_at: Timestamp,
  current_streak: Type.Integer({ description: '0 once a local day was missed' }),
  longest_streak: Type.Integer(),
  points: Type.Integer(),
  total_check_ins: Type.Integer(),
  last_check_in_date: Nullable(LocalDate),
});
export const MemberListQuery = Type.Object(PageQuery, { additionalProperties: false });
export const MemberPage = Page(Member);

export const Progress = Type.Object({
  challenge_id: Uuid,
  habits: Type.Array(Type.Object({ id: Uuid, name: Type.String(), icon: Nullable(Type.String()) })),
  members: Type.Array(
    Type.Object({
      user_id: Uuid,
      display_name: Type.String(),
      local_date: dateField("The member's own today"),
      current_streak: Type.Integer(),
      points: Type.Integer(),
      done: Type.Integer({ description: 'Habits checked in today' }),
      habits: Type.Array(Type.Object({ habit_id: Uuid, checked_in: Type.Boolean(), checkin_id: Nullable(Uuid) })),
    }),
  ),
});

export const ChallengeCheckinsQuery = Type.Object(
  {
    ...PageQuery,
    user_id: Type.Optional(Uuid),
    habit_id: Type.Optional(Uuid),
    from: Type.Optional(dateField('Local date, inclusive')),
    to: Type.Optional(dateField('Local date, inclusive')),
  },
  { additionalProperties: false },
);
