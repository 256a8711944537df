// The caller's inbox. Other modules create notifications through notify() inside their own
// transaction, so an event and its notification commit (or roll back) together.
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.js';
import { toPage } from '../../lib/pagination.js';
import type { Tx } from '../../db/database.js';
import { decodeKeyset, keyOf } from '../challenges/keyset.js';
import * as repo from './repository.js';

export type { NewNotification } from './repository.js';

function toApi(row: repo.NotificationRow) {
  return {
    id: row.id,
    type: row.type,
    title: row.title,
    body: row.body,
    data: row.data,
    read_at: row.read_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

export async function listNotifications(app: FastifyInstance, userId: string, query: { limit: number; cursor?: string; unread?: boolean }) {
  const cursor = decodeKeyset(query.cursor);
  const rows = await app.db.withUser(userId, (tx) =>
    repo.listNotifications(tx, userId, { unread: query.unread === true, limit: query.limit, cursor }),
  );
  const page = toPage(rows, query.limit, keyOf);
  return { items: page.items.map(toApi), next_cursor: page.next_cursor };
}

export async function unreadCount(app: FastifyInstance, userId: string) {
  return { count: await app.db.withUser(userId, (tx) => repo.countUnread(tx, userId)) };
}

export async function markRead(app: FastifyInstance, userId: string, id: string) {
  const row = await app.db.withUser(userId, (tx) => repo.markRead(tx, userId, id));
  if (!row) throw notFound('notification');
  return toApi(row);
}

export async function markAllRead(app: FastifyInstance, userId: string) {
  return { updated: await app.db.withUser(userId, (tx) => repo.markAllRead(tx, userId)) };
}

export async function deleteNotification(app: FastifyInstance, userId: string, id: string) {
  const deleted = await app.db.withUser(userId, (tx) => repo.deleteNotification(tx, userId, id));
  if (deleted === 0) throw notFound('notification');
}

/** Creates notifications inside the caller's transaction (the event and its notices commit together). */
export function notify(tx: Tx, items: repo.NewNotification[]) {
  return repo.insertNotifications(tx, items);
}
