// The one error catalogue. Each code is a stable, machine-readable contract with the mobile client:
// never rename a code, only add. The errors plugin maps an AppError to RFC 9457 problem+json.
export const ERROR_CATALOGUE = {
  MALFORMED_REQUEST: { status: 400, title: 'Malformed request' },
  VALIDATION_FAILED: { status: 422, title: 'Validation failed' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  INVALID_REFRESH_TOKEN: { status: 401, title: 'Invalid refresh token' },
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'Route not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  CONFLICT: { status: 409, title: 'Conflict' },
  EMAIL_TAKEN: { status: 409, title: 'Email already registered' },
  ALREADY_MEMBER: { status: 409, title: 'Already a member' },
  CHALLENGE_FULL: { status: 409, title: 'Challenge is full' },
  CHALLENGE_ENDED: { status: 409, title: 'Challenge has ended' },
  CHALLENGE_NOT_ACTIVE: { status: 409, title: 'Challenge is not active' },
  CREATOR_CANNOT_LEAVE: { status: 409, title: 'Creator cannot leave' },
  DUPLICATE_CHECK_IN: { status: 409, title: 'Already checked in' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  QUOTA_EXCEEDED: { status: 413, title: 'Storage quota exceeded' },
  MEDIA_IN_USE: { status: 409, title: 'Media is in use' },
  INVALID_MEDIA: { status: 422, title: 'Media could not be decoded' },
  WEAK_PASSWORD: { status: 422, title: 'Password too weak' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  ACCOUNT_LOCKED: { status: 429, title: 'Too many failed logins' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  NOT_READY: { status: 503, title: 'Service not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly options: { errors?: FieldError[]; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    const entry = ERROR_CATALOGUE[code];
    super(detail ?? entry.title);
    this.name = 'AppError';
    this.status = entry.status;
    this.title = entry.title;
  }
}

export const notFound = (what = 'resource') => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (detail = 'You are not allowed to do this') => new AppError('FORBIDDEN', detail);
export const invalid = (path: string, message: string) =>
  new AppError('VALIDATION_FAILED', message, { errors: [{ path, message }] });
