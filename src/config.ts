// One schema for every environment variable: validation, defaults, the TypeScript type and the
// .env.example check (test/config.test.ts) all come from ENV_SCHEMA, so there is no second copy.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

const Int = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description });
const Str = (description: string, extra: Record<string, unknown> = {}) =>
  Type.Optional(Type.String({ minLength: 1, description, ...extra }));

export const ENV_SCHEMA = Type.Object({
  APP_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
    description: 'development | test | production. production refuses development defaults.',
  }),
  PORT: Int(3000, 0, 65535, 'TCP port the API listens on.'),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Interface to bind (0.0.0.0 in a container).' }),
  DATA_DIR: Type.String({ default: './data', minLength: 1, description: 'Embedded database, media and backups live here.' }),
  DATABASE_URL: Str('postgres://user:pass@host:5432/db. Unset = embedded PGlite in DATA_DIR.', {
    pattern: '^postgres(ql)?://[^\\s]+$',
  }),
  DATABASE_POOL_MAX: Int(10, 1, 200, 'Max PostgreSQL connections per instance.'),
  DATABASE_CONNECT_ATTEMPTS: Int(5, 1, 100, 'Start-up connection attempts before giving up (1 s apart).'),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info', description: 'pino log level.' },
  ),
  TRUST_PROXY: Type.String({
    default: '',
    description: 'Comma-separated CIDRs of reverse proxies whose X-Forwarded-* headers are believed. Empty = none.',
  }),
  CORS_ORIGINS: Type.String({
    default: '',
    description: 'Comma-separated exact origins (https://dashboard.example.com) whose browser pages may call the API. Empty = none (mobile apps need none); never a wildcard.',
  }),
  ALLOWED_HOSTS: Type.String({
    default: '',
    description: 'Comma-separated host names this API answers to (api.example.com); any other Host gets 400. Empty = any host (set it in production). /health* is exempt.',
  }),
  JWT_SECRET: Str('HMAC key (>= 32 chars) for access tokens. Required in production unless JWT_KEYS is set.', {
    minLength: 32,
  }),
  JWT_KEYS: Str('Key set for rotation: "kid1:secret1,kid2:secret2"; the first signs, all verify.', {
    pattern: '^[A-Za-z0-9_-]+:[^,]{32,}(,[A-Za-z0-9_-]+:[^,]{32,})*$',
  }),
  ACCESS_TOKEN_TTL_SECONDS: Int(900, 60, 3600, 'Access-token lifetime (15 min).'),
  REFRESH_TOKEN_TTL_DAYS: Int(30, 1, 365, 'Refresh-token lifetime.'),
  ARGON2_MEMORY_KIB: Int(19456, 8192, 1048576, 'argon2id memory cost (OWASP minimum 19 MiB).'),
  ARGON2_ITERATIONS: Int(2, 1, 10, 'argon2id time cost.'),
  REQUEST_TIMEOUT_MS: Int(30000, 1000, 600000, 'A request whose headers and body take longer to arrive is cut off (also the idle-connection timeout).'),
  UPLOAD_TIMEOUT_MS: Int(600000, 1000, 3600000, 'How long one media upload may take to arrive (50 MB over a slow mobile link); other requests keep REQUEST_TIMEOUT_MS.'),
  SHUTDOWN_DRAIN_DELAY_MS: Int(0, 0, 60000, 'On SIGTERM, keep serving (readiness 503) this long so load balancers stop routing first.'),
  SHUTDOWN_TIMEOUT_MS: Int(10000, 500, 120000, 'How long in-flight requests may take to finish on SIGTERM.'),
  JOBS_ENABLED: Type.Boolean({ default: true, description: 'Run the scheduler in this instance (every instance may; each slot runs once).' }),
  JOB_SCHEDULES: Type.String({
    default: '',
    pattern: '^$|^[a-z_.]+=[^;=]+(;[a-z_.]+=[^;=]+)*$',
    description: 'Override job schedules: "challenges.auto_complete=5 0 * * *;reminders.streak=*/10 * * * *" (UTC cron).',
  }),
  BODY_LIMIT_BYTES: Int(1048576, 1024, 10485760, 'Max JSON body (1 MiB).'),
  RATE_LIMIT_ENABLED: Type.Boolean({ default: true, description: 'Per-client-IP rate limits (global, auth, upload buckets). Off only for benchmarks.' }),
  RATE_LIMIT_WINDOW_SECONDS: Int(60, 1, 86400, 'Fixed window of every rate-limit bucket.'),
  RATE_LIMIT_GLOBAL_MAX: Int(100, 1, 1_000_000_000, 'Requests per window and client IP on any route (health probes and /metrics exempt).'),
  RATE_LIMIT_AUTH_MAX: Int(10, 1, 1_000_000_000, 'Requests per window and client IP to /api/v1/auth/* together.'),
  RATE_LIMIT_UPLOAD_MAX: Int(5, 1, 1_000_000_000, 'Uploads (POST /api/v1/media) per window and client IP.'),
  REDIS_URL: Str('redis://[:password@]host:6379[/db] shared by all instances (rate limits). Unset = in-process memory.', {
    pattern: '^rediss?://[^\\s]+$',
  }),
  RATE_LIMIT_REDIS_TIMEOUT_MS: Int(50, 5, 5000, 'A rate-limit decision waits at most this long for Redis, then falls back.'),
  RATE_LIMIT_KEY_PREFIX: Type.String({
    default: 'darezone:rl',
    pattern: '^[A-Za-z0-9:_.-]{1,64}$',
    description: 'Prefix of the rate-limit keys in Redis (separates deployments sharing one Redis).',
  }),
  MEDIA_MAX_PHOTO_BYTES: Int(10485760, 1024, 104857600, 'Largest photo upload (10 MiB); bigger is refused with 413 while it streams.'),
  MEDIA_MAX_AVATAR_BYTES: Int(5242880, 1024, 104857600, 'Largest avatar upload (5 MiB).'),
  MEDIA_MAX_VIDEO_BYTES: Int(52428800, 1024, 1073741824, 'Largest video upload (50 MiB).'),
  MEDIA_MAX_IMAGE_PIXELS: Int(40000000, 1000000, 268402689, 'Largest image in pixels (width x height, 40 MP): a pixel-flood guard, 413 above.'),
  MEDIA_QUOTA_BYTES: Int(1073741824, 0, 1099511627776, 'Storage quota per user over all their media (1 GiB); 413 QUOTA_EXCEEDED above.'),
  MEDIA_URL_TTL_SECONDS: Int(300, 10, 604800, 'Lifetime of the signed media URLs the API hands out.'),
  MEDIA_SIGNING_KEY: Str('HMAC key (>= 32 chars) for signed local media URLs. Required in production with local storage; generated in DATA_DIR in development.', {
    minLength: 32,
  }),
  MEDIA_PUBLIC_BASE_URL: Str('Absolute origin put in front of local signed media URLs (https://api.example.com). Unset = root-relative /media/files/... URLs.', {
    pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
  }),
  S3_BUCKET: Str('Store media in this S3-compatible bucket instead of DATA_DIR/media.', { pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }),
  S3_REGION: Str('S3 region (required with S3_BUCKET unless S3_ENDPOINT is set; then defaults to us-east-1).'),
  S3_ENDPOINT: Str('S3-compatible endpoint URL (MinIO, R2, ...). Unset = AWS.', { pattern: '^https?://[^\\s]+$' }),
  S3_ACCESS_KEY_ID: Str('S3 access key id. Unset (with the secret) = the SDK default credential chain (IAM role, env, profile).'),
  S3_SECRET_ACCESS_KEY: Str('S3 secret access key (set together with S3_ACCESS_KEY_ID).'),
  S3_FORCE_PATH_STYLE: Type.Boolean({ default: false, description: 'Path-style bucket URLs (http://host/bucket/key): MinIO and most self-hosted S3 servers need it.' }),
  S3_KEY_PREFIX: Type.String({ default: '', pattern: '^$|^[A-Za-z0-9][A-Za-z0-9/._-]{0,63}/$', description: 'Prefix of every media object key in the bucket, ending in / (e.g. "media/").' }),
  BACKUP_DIR: Str('Where backups are written (default DATA_DIR/backups).'),
  BACKUP_RETENTION_DAYS: Int(30, 1, 3650, 'Backups older than this are pruned (never the newest verified one).'),
  BACKUP_ENCRYPTION_KEY: Str('32-byte key (base64 or 64 hex chars): backups are encrypted with AES-256-GCM. Keep a copy outside the server.', {
    pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$',
  }),
  BACKUP_S3_BUCKET: Str('Also copy every backup to this S3-compatible bucket.', { pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }),
  BACKUP_S3_REGION: Str('Region of BACKUP_S3_BUCKET (default us-east-1).'),
  BACKUP_S3_ENDPOINT: Str('S3-compatible endpoint for backups. Unset = AWS.', { pattern: '^https?://[^\\s]+$' }),
  BACKUP_S3_PREFIX: Type.String({ default: 'backups/', pattern: '^$|^[A-Za-z0-9][A-Za-z0-9/._-]{0,63}/$', description: 'Key prefix of backups in the bucket, ending in /.' }),
  BACKUP_S3_ACCESS_KEY_ID: Str('Access key id for BACKUP_S3_BUCKET (unset = the SDK default credential chain).'),
  BACKUP_S3_SECRET_ACCESS_KEY: Str('Secret access key for BACKUP_S3_BUCKET.'),
  METRICS_TOKEN: Str('Bearer token Prometheus presents to GET /metrics. Unset: /metrics is off (404) in production, loopback-only in development/test.', {
    minLength: 16,
  }),
  SENTRY_DSN: Str('Sentry DSN (https://key@host/project). Unset = no error tracking.', { pattern: '^https?://[^\\s]+$' }),
  SENTRY_TRACES_SAMPLE_RATE: Type.Number({ default: 0, minimum: 0, maximum: 1, description: 'Share of requests traced by Sentry (0 = errors only).' }),
  ALERTS_ENABLED: Type.Optional(Type.Boolean({ description: 'Evaluate the built-in alert rules every ALERT_EVALUATION_INTERVAL_SECONDS in this instance. Default: on (off with APP_ENV=test).' })),
  ALERT_EVALUATION_INTERVAL_SECONDS: Int(60, 5, 3600, 'How often each instance evaluates the alert rules.'),
  ALERT_HTTP_WINDOW_MINUTES: Int(5, 1, 60, 'Window of the request-based alerts (5xx ratio, p95 latency).'),
  ALERT_HTTP_5XX_PERCENT: Type.Number({ default: 2, minimum: 0, maximum: 100, description: 'Alert when more than this % of requests in the window answer 5xx...' }),
  ALERT_HTTP_MIN_REQUESTS: Int(50, 1, 1_000_000, '...and the window has at least this many requests.'),
  ALERT_HTTP_P95_MS: Int(200, 1, 600000, 'Alert when the p95 request latency over the window exceeds this (ms).'),
  ALERT_BACKUP_MAX_AGE_HOURS: Int(26, 1, 8760, 'Alert when the newest successful backup is older than this.'),
  ALERT_VERIFY_MAX_AGE_DAYS: Int(8, 1, 365, 'Alert when the newest backup that passed a restore drill is older than this.'),
  ALERT_JOB_FAILURES_CRITICAL: Int(3, 1, 100, 'A job failing this many runs in a row makes its alert critical (one failure: warning).'),
  ALERT_DISK_FREE_PERCENT: Type.Number({ default: 10, minimum: 0, maximum: 100, description: 'Alert when the file system holding DATA_DIR has less free space than this %.' }),
  ALERT_REMINDER_HOURS: Int(4, 1, 168, 'While an alert fires, remind every this many hours.'),
  ALERT_DELIVERY_ATTEMPTS: Int(5, 1, 20, 'Attempts per alert message and channel before giving up (logged).'),
  ALERT_DELIVERY_RETRY_MS: Int(2000, 10, 600000, 'First retry delay of a failed alert delivery; doubles per attempt (capped at 5 min).'),
  SMTP_URL: Str('Alert e-mail: smtp://user:pass@host:587 or smtps://...:465 (nodemailer connection URL).', { pattern: '^smtps?://[^\\s]+$' }),
  ALERT_EMAIL_FROM: Type.String({ default: 'DareZone alerts <alerts@localhost>', minLength: 3, description: 'From address of alert e-mails.' }),
  ALERT_EMAIL_TO: Str('Comma-separated recipients of alert e-mails (required with SMTP_URL).'),
  SLACK_WEBHOOK_URL: Str('Slack incoming-webhook URL for alerts.', { pattern: '^https?://[^\\s]+$' }),
  RUNBOOK_BASE_URL: Str('Where docs/INCIDENT_RESPONSE.md is published (alert messages link <this>#alert-<rule>). Unset = the repository path.', {
    pattern: '^https?://[^\\s#]+$',
  }),
  HEARTBEAT_URL: Str('Dead-man\'s-switch URL pinged (GET) after each successful daily challenges.auto_complete run.', { pattern: '^https?://[^\\s]+$' }),
});

type Env = Static<typeof ENV_SCHEMA>;

export interface Config extends Env {
  isProduction: boolean;
  isTest: boolean;
  embedded: boolean;
  dataDir: string;
  trustProxy: string[];
  /** CORS_ORIGINS parsed: exact, lower-cased origins (scheme://host[:port]). */
  corsOrigins: string[];
  /** ALLOWED_HOSTS parsed: lower-cased host names, no port. */
  allowedHosts: string[];
  jobSchedules: Record<string, string>;
  /** Where media bytes live: DATA_DIR/media, or the S3 bucket when S3_BUCKET is set. */
  mediaStorage: 'local' | 's3';
  /** ALERTS_ENABLED, defaulting to on except under APP_ENV=test (tests call evaluate() by hand). */
  alertsEnabled: boolean;
  /** Alert e-mail can be sent: SMTP_URL and ALERT_EMAIL_TO are both set. */
  smtpConfigured: boolean;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Empty strings count as unset: `FOO=` in a .env file should mean the default. */
function pickEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(ENV_SCHEMA.properties)) {
    const value = source[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

const splitList = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

/**
 * Secrets that are published in this repository (the test suite's key) can never protect a
 * production deployment; neither can one key used for two purposes.
 */
const PUBLIC_SECRETS = ['test-secret-that-is-long-enough-for-hs256-0123456789'];

function publicSecretProblems(env: Env): string[] {
  const secrets = Object.entries(env).filter(
    (entry): entry is [string, string] => /SECRET|_KEYS$|SIGNING_KEY$|_TOKEN$/.test(entry[0]) && typeof entry[1] === 'string',
  );
  const problems = secrets
    .filter(([, value]) => PUBLIC_SECRETS.some((known) => value.includes(known)))
    .map(([name]) => `${name}: a development/test value published in the repository`);
  const media = secrets.find(([name]) => name === 'MEDIA_SIGNING_KEY')?.[1];
  if (media && (media === env.JWT_SECRET || env.JWT_KEYS?.includes(media))) problems.push('MEDIA_SIGNING_KEY: must differ from the JWT key');
  return problems;
}

/** Exact origins only: scheme://host[:port], no path, no wildcard (a `*` with credentials is the classic CORS hole). */
function securityProblems(env: Env): string[] {
  const problems: string[] = [];
  for (const origin of splitList(env.CORS_ORIGINS)) {
    let canonical: string | null = null;
    try {
      const url = new URL(origin);
      if ((url.protocol === 'https:' || url.protocol === 'http:') && !origin.includes('*')) canonical = url.origin;
    } catch {
      // reported below
    }
    if (canonical === null || canonical !== origin.toLowerCase()) {
      problems.push(`CORS_ORIGINS: ${origin} is not an exact origin such as https://app.example.com (no path, no wildcard)`);
    }
  }
  for (const host of splitList(env.ALLOWED_HOSTS)) {
    if (!/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/i.test(host)) {
      problems.push(`ALLOWED_HOSTS: ${host} is not a host name (no scheme, no port)`);
    }
  }
  return problems;
}

function productionProblems(env: Env): string[] {
  if (env.APP_ENV !== 'production') return [];
  const problems: string[] = [];
  if (!env.JWT_SECRET && !env.JWT_KEYS) problems.push('JWT_SECRET: required when APP_ENV=production (no development key)');
  problems.push(...publicSecretProblems(env));
  for (const origin of splitList(env.CORS_ORIGINS)) {
    if (origin.startsWith('http://')) problems.push(`CORS_ORIGINS: ${origin} is not https (development origins are refused when APP_ENV=production)`);
  }
  if (!env.S3_BUCKET && !env.MEDIA_SIGNING_KEY) {
    problems.push('MEDIA_SIGNING_KEY: required when APP_ENV=production with local media storage (no development key)');
  }
  return problems;
}

function alertProblems(env: Env): string[] {
  if (Boolean(env.SMTP_URL) === Boolean(env.ALERT_EMAIL_TO)) return [];
  return ['SMTP_URL / ALERT_EMAIL_TO: set both (alert e-mail needs a server and recipients) or neither'];
}

function storageProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.S3_BUCKET && !env.S3_REGION && !env.S3_ENDPOINT) problems.push('S3_REGION: required with S3_BUCKET (or set S3_ENDPOINT)');
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    problems.push('S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY: set both or neither');
  }
  return problems;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw = Value.Convert(ENV_SCHEMA, Value.Default(ENV_SCHEMA, pickEnv(source)));
  const problems = [...Value.Errors(ENV_SCHEMA, raw)].map((e) => {
    const name = e.instancePath.replace(/^\//, '') || 'environment';
    return `${name}: ${e.message}`;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const env = raw as Env;
  const extra = [...storageProblems(env), ...securityProblems(env), ...alertProblems(env), ...productionProblems(env)];
  if (extra.length > 0) throw new ConfigError(extra);
  const trustProxy = env.TRUST_PROXY.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    ...env,
    isProduction: env.APP_ENV === 'production',
    isTest: env.APP_ENV === 'test',
    embedded: !env.DATABASE_URL,
    dataDir: path.resolve(env.DATA_DIR),
    trustProxy,
    corsOrigins: splitList(env.CORS_ORIGINS).map((o) => o.toLowerCase()),
    allowedHosts: splitList(env.ALLOWED_HOSTS).map((h) => h.toLowerCase()),
    mediaStorage: env.S3_BUCKET ? 's3' : 'local',
    alertsEnabled: env.ALERTS_ENABLED ?? env.APP_ENV !== 'test',
    smtpConfigured: Boolean(env.SMTP_URL && env.ALERT_EMAIL_TO),
    jobSchedules: Object.fromEntries(
      env.JOB_SCHEDULES.split(';').filter(Boolean).map((pair) => pair.split('=').map((s) => s.trim()) as [string, string]),
    ),
  };
}

/** Loads `.env` from the working directory if present (never committed; see .env.example). */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
