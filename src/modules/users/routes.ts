// /api/v1/users: the caller's own profile, other users' public profiles, and search by name.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams, Page } from '../../lib/schemas.js';
import { OwnProfile, PublicProfile, SearchQuery, UpdateProfileBody } from './schemas.js';
import { createUsersService } from './service.js';

const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const users = createUsersService({ db: app.db, clock: app.clock });
  const tags = ['users'];

  app.get('/me', {
    schema: { tags, summary: 'My profile (with email, role and counters)', response: { 200: OwnProfile } },
  }, (request) => users.ownProfile(request.user.id));

  app.patch('/me', {
    schema: {
      tags,
      summary: 'Update my profile',
      description: 'Send only the fields to change. Unknown fields (role, points, email, id…) are refused with 400 and nothing changes.',
      body: UpdateProfileBody,
      response: { 200: OwnProfile },
    },
  }, (request) => users.updateOwnProfile(request.user.id, request.body));

  app.get('/search', {
    schema: {
      tags,
      summary: 'Find users by the start of their display name',
      description: 'Case-insensitive prefix match; blocked users (either way) and the caller are left out. Public fields only.',
      querystring: SearchQuery,
      response: { 200: Page(PublicProfile) },
    },
  }, (request) => users.search(request.user.id, request.query));

  app.get('/:id', {
    schema: {
      tags,
      summary: "Another user's public profile",
      description: 'Visible to friends and fellow challenge members; 404 otherwise (also when either side blocked the other).',
      params: IdParams,
      response: { 200: PublicProfile },
    },
  }, (request) => users.profileOf(request.user.id, request.params.id));
};

export default usersRoutes;
