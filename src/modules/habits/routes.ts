// Habits (§3): ten system habits, users' own custom ones, and those of the caller's challenges.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateHabitBody, Habit, HabitListQuery, HabitPage } from './schemas.js';
import * as service from './service.js';

const habitRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['habits'];
  app.get('/habits', {
    schema: { tags, summary: 'System habits, my own, and those of my challenges', querystring: HabitListQuery, response: { 200: HabitPage } },
  }, async (request) => service.listHabits(app, request.user.id, request.query));

  app.post('/habits', {
    schema: { tags, summary: 'Create a custom habit', body: CreateHabitBody, response: { 201: Habit } },
  }, async (request, reply) => reply.code(201).send(await service.createHabit(app, request.user.id, request.body)));
};

export default habitRoutes;
