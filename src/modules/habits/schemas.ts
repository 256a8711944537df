import { Type } from 'typebox';
import { Page, PageQuery, Timestamp, Uuid } from '../../lib/schemas.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const Habit = Type.Object({
  id: Uuid,
  name: Type.String(),
  icon: NullableString,
  description: NullableString,
  category: NullableString,
  is_system: Type.Boolean(),
  created_by: Type.Union([Uuid, Type.Null()]),
  created_at: Timestamp,
});

export const CreateHabitBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 60 }),
    icon: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'An emoji or icon name' })),
    description: Type.Optional(Type.String({ maxLength: 300 })),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  },
  { additionalProperties: false },
);

export const HabitListQuery = Type.Object(PageQuery, { additionalProperties: false });
export const HabitPage = Page(Habit);
