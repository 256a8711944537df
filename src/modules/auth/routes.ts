// /api/v1/auth. Public: signup, login, refresh (the §5.1 list; test/plugins/auth.test.ts holds it).
// Logout and password change need the access token: they act on the session it names (`sid`).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OwnProfile } from '../users/schemas.js';
import { createPasswordHasher } from './passwords.js';
import { LoginBody, LogoutBody, NoContent, PasswordBody, RefreshBody, Session, SignupBody, TokenPair } from './schemas.js';
import { createAuthService } from './service.js';

const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const hasher = await createPasswordHasher(app.config);
  const auth = createAuthService({ db: app.db, clock: app.clock, config: app.config, keys: app.keys, hasher });
  const tags = ['auth'];
  const open = { config: { public: true } } as const;

  app.post('/signup', {
    ...open,
    schema: { tags, security: [], summary: 'Create an account and sign in', body: SignupBody, response: { 201: Session } },
  }, async (request, reply) => reply.code(201).send(await auth.signup(request.body)));

  app.post('/login', {
    ...open,
    schema: {
      tags,
      security: [],
      summary: 'Sign in with email and password',
      description: 'Unknown email and wrong password give the same 401. Five failures for one email within 15 minutes lock it for 15 minutes (429 with Retry-After), from any IP.',
      body: LoginBody,
      response: { 200: Session },
    },
  }, (request) => auth.login(request.body, request.log));

  app.post('/refresh', {
    ...open,
    schema: {
      tags,
      security: [],
      summary: 'Exchange a refresh token for a new token pair',
      description: 'The refresh token is single use. Presenting one that was already exchanged revokes the whole session (401).',
      body: RefreshBody,
      response: { 200: TokenPair },
    },
  }, (request) => auth.refresh(request.body.refresh_token, request.log));

  app.post('/logout', {
    schema: {
      tags,
      summary: 'End this session (or every session)',
      description: 'Needs the access token. Revokes the session the access token belongs to and, if given, the refresh token\'s session; `all_sessions: true` revokes every session of the account. The body may be omitted. Access tokens already issued stay valid until they expire (at most ACCESS_TOKEN_TTL_SECONDS).',
      body: LogoutBody,
      response: { 204: NoContent },
    },
    // A client logging out often sends no body at all; that means "this session".
    preValidation: async (request) => {
      request.body ??= {};
    },
  }, async (request, reply) => {
    await auth.logout(request.user, request.body);
    return reply.code(204).send(null);
  });

  app.post('/password', {
    schema: {
      tags,
      summary: 'Change my password',
      description: 'Signs out every other session; this one stays. A wrong current password answers 422 and counts towards the login lockout.',
      body: PasswordBody,
      response: { 204: NoContent },
    },
  }, async (request, reply) => {
    await auth.changePassword(request.user, request.body, request.log);
    return reply.code(204).send(null);
  });

  app.get('/me', {
    schema: { tags, summary: 'The signed-in account (same as GET /api/v1/users/me)', response: { 200: OwnProfile } },
  }, (request) => auth.me(request.user));
};

export default authRoutes;
