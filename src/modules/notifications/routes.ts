// The caller's notifications (§3): list, unread count, mark read, delete. Only ever the caller's own.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams } from '../../lib/schemas.js';
import { Notification, NotificationListQuery, NotificationPage, ReadAllResult, UnreadCount } from './schemas.js';
import * as service from './service.js';

const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['notifications'];
  app.get('/notifications', {
    schema: { tags, summary: 'My notifications, newest first', querystring: NotificationListQuery, response: { 200: NotificationPage } },
  }, async (request) => service.listNotifications(app, request.user.id, request.query));

  app.get('/notifications/unread-count', {
    schema: { tags, summary: 'How many of my notifications are unread', response: { 200: UnreadCount } },
  }, async (request) => service.unreadCount(app, request.user.id));

  app.post('/notifications/:id/read', {
    schema: { tags, summary: 'Mark one notification read', params: IdParams, response: { 200: Notification } },
  }, async (request) => service.markRead(app, request.user.id, request.params.id));

  app.post('/notifications/read-all', {
    schema: { tags, summary: 'Mark all my notifications read', response: { 200: ReadAllResult } },
  }, async (request) => service.markAllRead(app, request.user.id));

  app.delete('/notifications/:id', {
    schema: { tags, summary: 'Delete one notification', params: IdParams, response: { 204: Type.Null() } },
  }, async (request, reply) => {
    await service.deleteNotification(app, request.user.id, request.params.id);
    return reply.code(204).send(null);
  });
};

export default notificationRoutes;
