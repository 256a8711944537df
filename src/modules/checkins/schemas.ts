import { Type } from 'typebox';
import { LocalDate, Page, PageQuery, Timestamp, Uuid } from '../../lib/schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const dateField = (description: string) => Type.String({ format: 'date', maxLength: 10, description });

export const Checkin = Type.Object({
  id: Uuid,
  challenge_id: Uuid,
  habit_id: Uuid,
  user_id: Uuid,
  local_date: dateField("The member's local date of the check-in"),
  caption: Nullable(Type.String()),
  photo_media_id: Nullable(Uuid),
  video_media_id: Nullable(Uuid),
  points_earned: Type.Integer(),
  streak_after: Type.Integer({ description: "The member's streak in this challenge after this check-in" }),
  created_at: Timestamp,
});

export const CreateCheckinBody = Type.Object(
  {
    challenge_id: Uuid,
    habit_id: Uuid,
    caption: Type.Optional(Type.String({ maxLength: 500 })),
    photo_media_id: Type.Optional(Type.String({ format: 'uuid', description: 'A photo you uploaded (POST /media, kind photo)' })),
    video_media_id: Type.Optional(Type.String({ format: 'uuid', description: 'A video you uploaded (POST /media, kind video)' })),
  },
  { additionalProperties: false },
);

export const CheckinResult = Type.Object({
  checkin: Checkin,
  new_streak: Type.Integer({ description: 'Consecutive local days with a check-in in this challenge' }),
  points_earned: Type.Integer({ description: '10, or 20 when the day continues yesterday’s streak' }),
  streak_broken: Type.Boolean({ description: 'A previous streak had lapsed; this check-in starts again at 1' }),
});

export const MyCheckinsQuery = Type.Object(
  {
    ...PageQuery,
    challenge_id: Type.Optional(Uuid),
    from: Type.Optional(dateField('Local date, inclusive')),
    to: Type.Optional(dateField('Local date, inclusive')),
  },
  { additionalProperties: false },
);

export const CheckinPage = Page(Checkin);

export const Today = Type.Object({
  local_date: LocalDate,
  checkins: Type.Array(Checkin),
  remaining: Type.Array(
    Type.Object({ challenge_id: Uuid, challenge_name: Type.String(), habit_id: Uuid, habit_name: Type.String() }),
    { description: 'Habits of my open challenges not yet checked in today' },
  ),
});
