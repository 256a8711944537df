// Which buckets a request counts against, and how the outcome is told to the client (§5.2).
// Pure functions and precomputed strings: this runs on every request.
import type { Config } from '../config.js';

export type BucketName = 'global' | 'auth' | 'upload';
export const BUCKET_NAMES: readonly BucketName[] = ['global', 'auth', 'upload'];

export interface Bucket {
  name: BucketName;
  /** Requests admitted per window and client. */
  max: number;
  windowSeconds: number;
}

export type BucketSet = readonly Bucket[];

export interface Policy {
  buckets: Record<BucketName, Bucket>;
  global: BucketSet;
  auth: BucketSet;
  upload: BucketSet;
  /** The RateLimit-Policy header for each bucket set, computed once. */
  policyHeader: Map<BucketSet, string>;
}

const AUTH_PREFIX = '/api/v1/auth/';
const UPLOAD_PATHS = new Set(['/api/v1/media', '/api/v1/media/']);
// Probes and the scrape endpoint must answer whatever a client does; matched by route template, so
// an unknown path such as /health-x is a 404 that counts like any other.
const EXEMPT_ROUTES = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

export function createPolicy(config: Pick<Config, 'RATE_LIMIT_WINDOW_SECONDS' | 'RATE_LIMIT_GLOBAL_MAX' | 'RATE_LIMIT_AUTH_MAX' | 'RATE_LIMIT_UPLOAD_MAX'>): Policy {
  const bucket = (name: BucketName, max: number): Bucket => ({ name, max, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS });
  const buckets = {
    global: bucket('global', config.RATE_LIMIT_GLOBAL_MAX),
    auth: bucket('auth', config.RATE_LIMIT_AUTH_MAX),
    upload: bucket('upload', config.RATE_LIMIT_UPLOAD_MAX),
  };
  const sets = { global: [buckets.global], auth: [buckets.global, buckets.auth], upload: [buckets.global, buckets.upload] };
  const policyHeader = new Map<BucketSet, string>(Object.values(sets).map((set) => [set, formatPolicy(set)]));
  return { buckets, ...sets, policyHeader };
}

/**
 * The buckets a request counts against, or null when it is exempt. `routeUrl` is the matched route
 * template (undefined for a 404); the auth prefix is also checked on the raw path so unknown
 * `/api/v1/auth/*` paths count against auth too.
 */
export function bucketsFor(policy: Policy, method: string, routeUrl: string | undefined, url: string): BucketSet | null {
  if (routeUrl !== undefined && EXEMPT_ROUTES.has(routeUrl)) return null;
  const path = pathOf(url);
  const route = routeUrl ?? path;
  if (isAuthPath(route) || isAuthPath(path)) return policy.auth;
  if (method === 'POST' && UPLOAD_PATHS.has(route)) return policy.upload;
  return policy.global;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function isAuthPath(path: string): boolean {
  return path.startsWith(AUTH_PREFIX) || path === '/api/v1/auth';
}

/** `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers, structured-field list): `"global";q=100;w=60, "auth";q=10;w=60`. */
export function formatPolicy(set: BucketSet): string {
  return set.map((b) => `"${b.name}";q=${b.max};w=${b.windowSeconds}`).join(', ');
}

/** `RateLimit` for one bucket: `"auth";r=3;t=42` (remaining units, seconds until the window resets). */
export function formatRateLimit(name: BucketName, remaining: number, resetSeconds: number): string {
  return `"${name}";r=${remaining};t=${resetSeconds}`;
}
