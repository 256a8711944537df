// One handler turns every failure into RFC 9457 problem+json (§2). 5xx bodies carry only a generic
// title and the request id; the details go to the log (and later to error tracking).
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, type ErrorCode, type FieldError } from '../errors.js';

// Keywords that mean "this is not the shape of request we accept" (400) rather than "the shape is
// right but a value breaks a rule" (422).
const STRUCTURAL = new Set(['type', 'required', 'additionalProperties', 'const', 'enum', 'anyOf', 'oneOf']);

interface AjvIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

export function problemType(code: string): string {
  return `urn:darezone:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

function fieldPath(context: string | undefined, issue: AjvIssue): string {
  const segments = issue.instancePath.split('/').filter(Boolean);
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof extra === 'string') segments.push(extra);
  return [context ?? 'body', ...segments].join('.');
}

function fieldMessage(issue: AjvIssue): string {
  if (issue.keyword === 'additionalProperties') return 'unknown field';
  if (issue.keyword === 'required') return 'is required';
  return issue.message ?? 'is invalid';
}

function fromValidation(err: FastifyError): AppError {
  const issues = (err.validation ?? []) as unknown as AjvIssue[];
  const errors: FieldError[] = issues.map((i) => ({ path: fieldPath(err.validationContext, i), message: fieldMessage(i) }));
  const structural = issues.some((i) => STRUCTURAL.has(i.keyword));
  const detail = errors.map((e) => `${e.path} ${e.message}`).join('; ');
  return new AppError(structural ? 'MALFORMED_REQUEST' : 'VALIDATION_FAILED', detail, { errors });
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
};

export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const e = err as FastifyError;
  if (e?.validation) return fromValidation(e);
  const mapped = e?.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return new AppError(mapped, e.message);
  // Other framework 4xx (bad JSON, prototype poisoning, bad headers) carry safe, generic messages.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).find((c) => ERROR_CATALOGUE[c].status === e.statusCode);
    return new AppError(code ?? 'MALFORMED_REQUEST', e.message);
  }
  return undefined;
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  const body: Record<string, unknown> = {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    instance: request.url.split('?')[0],
    code: error.code,
    request_id: request.id,
    ...error.options.extra,
  };
  if (error.options.errors) body.errors = error.options.errors;
  if (error.options.headers) void reply.headers(error.options.headers);
  return reply.code(error.status).type('application/problem+json; charset=utf-8').send(body);
}

export default fp(
  (app) => {
    app.setErrorHandler((err, request, reply) => {
      const known = toAppError(err);
      if (known) {
        if (known.status >= 500) request.log.error({ err }, 'request failed');
        return sendProblem(request, reply, known);
      }
      request.log.error({ err }, 'unhandled error');
      return sendProblem(request, reply, new AppError('INTERNAL', 'An unexpected error occurred. Quote the request id when reporting it.'));
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(request, reply, new AppError('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'errors' },
);
