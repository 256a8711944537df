// Authentication is on for every route by default: the only way out is `config: { public: true }`
// on the route, and test/plugins/auth.test.ts walks the route table to prove it. Admin-only routes
// say `config: { admin: true }`; the same hook enforces it, so there is one mechanism, not two.
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';
import { verifyAccessToken, type KeySet } from './auth-keys.js';

export interface AuthUser {
  id: string;
  role: 'user' | 'admin';
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a token. Keep this list short (§5.1). */
    public?: boolean;
    /** Platform admins only. */
    admin?: boolean;
  }
  interface FastifyInstance {
    keys: KeySet;
  }
  interface FastifyRequest {
    /** Set on every non-public route before the handler runs. */
    user: AuthUser;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

export default fp(
  (app, opts: { keys: KeySet }) => {
    app.decorate('keys', opts.keys);
    // null on public routes; typed non-null because only authenticated routes may read it.
    app.decorateRequest('user', null as unknown as AuthUser);
    app.addHook('onRequest', async (request) => {
      if (request.is404 || request.routeOptions.config.public) return;
      const match = BEARER.exec(request.headers.authorization ?? '');
      const claims = match ? await verifyAccessToken(app.keys, match[1]!, app.clock.now()) : null;
      if (!claims) {
        throw new AppError('UNAUTHENTICATED', 'A valid access token is required', {
          headers: { 'www-authenticate': 'Bearer realm="darezone"' },
        });
      }
      request.user = { id: claims.sub, role: claims.role, sessionId: claims.sid };
      if (request.routeOptions.config.admin && claims.role !== 'admin') {
        throw new AppError('FORBIDDEN', 'Platform admins only');
      }
    });
  },
  { name: 'auth', dependencies: ['core', 'errors'] },
);
