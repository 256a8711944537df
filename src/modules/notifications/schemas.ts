import { Type } from 'typebox';
import { Page, PageQuery, Timestamp, Uuid } from '../../lib/schemas.js';

export const Notification = Type.Object({
  id: Uuid,
  type: Type.String({ description: 'member_joined, member_left, member_removed, streak_milestone, …' }),
  title: Type.String(),
  body: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'Event details, e.g. challenge_id' }),
  read_at: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
});

export const NotificationListQuery = Type.Object(
  { ...PageQuery, unread: Type.Optional(Type.Boolean({ description: 'true: unread only' })) },
  { additionalProperties: false },
);

export const NotificationPage = Page(Notification);
export const UnreadCount = Type.Object({ count: Type.Integer({ minimum: 0 }) });
export const ReadAllResult = Type.Object({ updated: Type.Integer({ minimum: 0 }) });
