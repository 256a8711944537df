// What leaves the process for Sentry is scrubbed here, whatever put it on the event: values under
// secret-looking keys (headers, request data, extra, contexts, breadcrumb data) become
// "[redacted]", and secret-looking text inside any string (Bearer tokens, JWTs, credentials in URLs,
// `password=...` pairs) is cut out too. test/monitoring/sentry.test.ts proves it on the wire.
import type { Breadcrumb, ErrorEvent, Event } from '@sentry/node';

const REDACTED = '[redacted]';
const SECRET_KEY = /pass(word)?|passwd|secret|token|authorization|cookie|session|api[-_]?key|credential|signature|dsn|private/i;
const TEXT_PATTERNS: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED], // a JWT anywhere
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, `$1${REDACTED}@`], // scheme://user:password@host
  [/\b(password|passwd|pwd|token|secret|api[-_]?key|refresh_token|access_token)=([^&\s;]+)/gi, `$1=${REDACTED}`],
];

export function scrubText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A deep copy with secrets removed; depth-limited so a cyclic or huge object cannot stall it. */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? REDACTED : scrubValue(v, depth + 1);
  return out;
}

function scrubRequest(request: Event['request']): Event['request'] {
  if (!request) return request;
  return {
    ...request,
    url: request.url ? scrubText(request.url.split('?')[0]!) : request.url,
    query_string: undefined,
    cookies: undefined,
    headers: request.headers ? (scrubValue(request.headers) as Record<string, string>) : undefined,
    data: request.data === undefined ? undefined : scrubValue(request.data),
  };
}

export function scrubEvent<T extends Event | ErrorEvent>(event: T): T {
  const e = { ...event };
  e.request = scrubRequest(e.request);
  if (e.message) e.message = scrubText(e.message);
  if (e.extra) e.extra = scrubValue(e.extra) as Record<string, unknown>;
  if (e.contexts) e.contexts = scrubValue(e.contexts) as Event['contexts'];
  if (e.tags) e.tags = scrubValue(e.tags) as Event['tags'];
  if (e.user) e.user = e.user.id === undefined ? undefined : { id: e.user.id };
  if (e.breadcrumbs) e.breadcrumbs = e.breadcrumbs.map(scrubBreadcrumb);
  if (e.exception?.values) {
    e.exception = { ...e.exception, values: e.exception.values.map((x) => ({ ...x, value: x.value ? scrubText(x.value) : x.value })) };
  }
  return e;
}

export function scrubBreadcrumb(crumb: Breadcrumb): Breadcrumb {
  return { ...crumb, message: crumb.message ? scrubText(crumb.message) : crumb.message, data: crumb.data ? (scrubValue(crumb.data) as Breadcrumb['data']) : crumb.data };
}
