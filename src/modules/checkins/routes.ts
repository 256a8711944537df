// Check-ins (§3): create today's, list mine, and today's overview.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CheckinPage, CheckinResult, CreateCheckinBody, MyCheckinsQuery, Today } from './schemas.js';
import * as service from './service.js';

const checkinRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['check-ins'];
  app.post('/checkins', {
    schema: {
      tags,
      summary: "Check in a habit of a challenge for my local today (409 if already done)",
      body: CreateCheckinBody,
      response: { 201: CheckinResult },
    },
  }, async (request, reply) => reply.code(201).send(await service.createCheckin(app, request.user.id, request.body)));

  app.get('/checkins', {
    schema: { tags, summary: 'My check-ins, newest first', querystring: MyCheckinsQuery, response: { 200: CheckinPage } },
  }, async (request) => service.listMyCheckins(app, request.user.id, request.query));

  app.get('/checkins/today', {
    schema: { tags, summary: "My local today: check-ins done and habits still open", response: { 200: Today } },
  }, async (request) => service.today(app, request.user.id));
};

export default checkinRoutes;
