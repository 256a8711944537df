// Challenges (§3, §4): create, list, read, edit; membership; progress and the check-in feed.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams } from '../../lib/schemas.js';
import { CheckinPage } from '../checkins/schemas.js';
import { challengeCheckins, progress } from './activity-service.js';
import { joinChallenge, leaveChallenge, listMembers, removeMember } from './membership-service.js';
import {
  Challenge, ChallengeCheckinsQuery, ChallengeListQuery, ChallengePage, CreateChallengeBody, JoinBody, MemberListQuery,
  MemberPage, MemberParams, Progress, UpdateChallengeBody,
} from './schemas.js';
import * as service from './service.js';

const challengeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['challenges'];
  app.post('/challenges', {
    schema: { tags, summary: 'Create a challenge (you become its creator member)', body: CreateChallengeBody, response: { 201: Challenge } },
  }, async (request, reply) => reply.code(201).send(await service.createChallenge(app, request.user.id, request.body)));

  app.get('/challenges', {
    schema: { tags, summary: 'Challenges I am an active member of, newest first', querystring: ChallengeListQuery, response: { 200: ChallengePage } },
  }, async (request) => service.listChallenges(app, request.user.id, request.query));

  app.post('/challenges/join', {
    schema: { tags, summary: 'Join a challenge by its invite code', body: JoinBody, response: { 200: Challenge } },
  }, async (request) => joinChallenge(app, request.user.id, request.body.invite_code));

  app.get('/challenges/:id', {
    schema: { tags, summary: 'A challenge (members, or anyone if public)', params: IdParams, response: { 200: Challenge } },
  }, async (request) => service.getChallenge(app, request.user.id, request.params.id));

  app.patch('/challenges/:id', {
    schema: { tags, summary: 'Edit a challenge (creator and admins)', params: IdParams, body: UpdateChallengeBody, response: { 200: Challenge } },
  }, async (request) => service.updateChallenge(app, request.user.id, request.params.id, request.body));

  app.post('/challenges/:id/leave', {
    schema: { tags, summary: 'Leave a challenge', params: IdParams, response: { 204: Type.Null() } },
  }, async (request, reply) => {
    await leaveChallenge(app, request.user.id, request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/challenges/:id/members', {
    schema: { tags, summary: 'Active members in joining order', params: IdParams, querystring: MemberListQuery, response: { 200: MemberPage } },
  }, async (request) => listMembers(app, request.user.id, request.params.id, request.query));

  app.delete('/challenges/:id/members/:user_id', {
    schema: { tags, summary: 'Remove a member (creator and admins; never the creator)', params: MemberParams, response: { 204: Type.Null() } },
  }, async (request, reply) => {
    await removeMember(app, request.user.id, request.params.id, request.params.user_id);
    return reply.code(204).send(null);
  });

  app.get('/challenges/:id/progress', {
    schema: { tags, summary: "Each member's check-ins on their local today, per habit", params: IdParams, response: { 200: Progress } },
  }, async (request) => progress(app, request.user.id, request.params.id));

  app.get('/challenges/:id/checkins', {
    schema: { tags, summary: 'Check-ins of a challenge, newest first', params: IdParams, querystring: ChallengeCheckinsQuery, response: { 200: CheckinPage } },
  }, async (request) => challengeCheckins(app, request.user.id, request.params.id, request.query));
};

export default challengeRoutes;
