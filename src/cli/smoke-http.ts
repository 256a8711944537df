// The HTTP side of `darezone smoke`: global fetch only, so it checks what a phone would reach (the
// load balancer, TLS, proxies) and never the server's internals. Every surprise becomes a
// SmokeFailure whose message is the one line an operator reads.

export class SmokeFailure extends Error {}

export type Json = Record<string, unknown>;

export interface SmokeResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response says it is JSON, otherwise undefined. */
  body: unknown;
  bytes: Buffer;
}

export interface CallOptions {
  /** The one status this step accepts. */
  expect: number;
  json?: unknown;
  form?: FormData;
  /** Bearer token; omitted for public routes and signed media URLs (which must not get one). */
  token?: string;
}

/** The deployment's URL, possibly with a path prefix; refuses anything fetch cannot use. */
export function parseBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SmokeFailure(`--base-url ${value} is not a URL (e.g. https://api.example.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SmokeFailure(`--base-url must be http(s), not ${url.protocol}`);
  if (url.search || url.hash) throw new SmokeFailure('--base-url must not carry a query or fragment');
  return url;
}

/** "connect ECONNREFUSED 127.0.0.1:1" rather than fetch's bare "fetch failed". */
function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  let cause: unknown = err;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return `cannot reach the server: ${message}`;
}

/** The problem+json details that let an operator find the request in the server's logs. */
export function describeProblem(res: SmokeResponse): string {
  const p = isObject(res.body) ? res.body : {};
  const parts = [typeof p.code === 'string' ? p.code : undefined, typeof p.detail === 'string' ? p.detail : undefined];
  if (Array.isArray(p.failing) && p.failing.length > 0) parts.push(`failing: ${p.failing.map(String).join(', ')}`); // readiness
  if (Array.isArray(p.errors) && isObject(p.errors[0])) {
    const e = p.errors[0];
    parts.push(`${String(e.path)} ${String(e.message)}`);
  }
  const requestId = typeof p.request_id === 'string' ? p.request_id : res.headers.get('x-request-id');
  if (requestId) parts.push(`request_id ${requestId}`);
  const text = parts.filter(Boolean).join('; ');
  return text ? ` (${text.replace(/\s+/g, ' ').slice(0, 300)})` : '';
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class SmokeHttp {
  constructor(
    readonly baseUrl: URL,
    private readonly timeoutMs: number,
  ) {}

  /** A path of the API (`/api/v1/…`, `/health/ready`) under the base URL, which may carry a prefix. */
  url(pathAndQuery: string): URL {
    const [path, query] = pathAndQuery.split('?', 2);
    const url = new URL(this.baseUrl);
    url.pathname = `${this.baseUrl.pathname.replace(/\/+$/, '')}${path}`;
    url.search = query ?? '';
    return url;
  }

  /** Fails unless the status is exactly `opts.expect`; 429 and redirects get their own explanation. */
  async call(method: string, target: string | URL, opts: CallOptions): Promise<SmokeResponse> {
    const url = typeof target === 'string' ? this.url(target) : target;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | FormData | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.form) {
      body = opts.form; // fetch writes the multipart boundary itself
    }
    let res: SmokeResponse;
    try {
      // Manual redirects: following one would hide a wrong --base-url (http → https), and fetch
      // would carry the request on to wherever the Location points.
      const raw = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
      const bytes = Buffer.from(await raw.arrayBuffer());
      res = { status: raw.status, headers: raw.headers, bytes, body: parseJson(raw.headers, bytes) };
    } catch (err) {
      throw new SmokeFailure(networkReason(err, this.timeoutMs));
    }
    if (res.status === opts.expect) return res;
    if (res.status === 429) {
      const retry = res.headers.get('retry-after');
      const bucket = isObject(res.body) && typeof res.body.bucket === 'string' ? ` (bucket ${res.body.bucket})` : '';
      throw new SmokeFailure(
        `rate limited: 429${bucket}, Retry-After ${retry ?? 'not given'}${retry ? ' s' : ''}; limits count per client IP: wait that long and run again`,
      );
    }
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      throw new SmokeFailure(`expected ${opts.expect}, got a ${res.status} redirect to ${location ?? '(no location)'}: use that origin as --base-url`);
    }
    throw new SmokeFailure(`expected ${opts.expect}, got ${res.status}${describeProblem(res)}`);
  }
}

function parseJson(headers: Headers, bytes: Buffer): unknown {
  if (!/json/i.test(headers.get('content-type') ?? '') || bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined; // reported by the step that needed the body ("not a JSON object")
  }
}

// Minimal shape checks: enough to prove the flow works, not a second copy of the OpenAPI schemas.

export function object(value: unknown, what: string): Json {
  if (!isObject(value)) throw new SmokeFailure(`${what} is not a JSON object`);
  return value;
}

export function str(o: Json, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new SmokeFailure(`response field ${key} missing or not a string`);
  return v;
}

export function int(o: Json, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new SmokeFailure(`response field ${key} missing or not an integer`);
  return v;
}

export function list(o: Json, key: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new SmokeFailure(`response field ${key} missing or not an array`);
  return v;
}

export function same(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new SmokeFailure(`${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}
