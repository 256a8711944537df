// Reads POST /media's multipart body: one `kind` field and one `file` part, in either order. The
// file is streamed to a temporary file while its bytes are counted, hashed and its first bytes kept
// for sniffing; the size limit is enforced on the stream, so an oversized upload is refused as soon
// as it crosses the limit and is never held in memory.
//   `kind` before `file` (recommended): the kind's own limit applies while streaming.
//   `file` before `kind`: the largest limit applies while streaming, the kind's once it is known.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { AppError } from '../../errors.js';
import { SNIFF_BYTES } from './sniff.js';

export const KINDS = ['photo', 'video', 'avatar'] as const;
export type MediaKind = (typeof KINDS)[number];

export interface Spooled {
  kind: MediaKind;
  path: string;
  size: number;
  sha256: string;
  head: Buffer;
}

export interface UploadLimits {
  /** Bytes per kind. */
  perKind: Record<MediaKind, number>;
  /** Bytes left in the caller's quota (checked while streaming for stored-as-is videos). */
  quotaLeft: number;
  tmpDir: string;
}

const malformed = (detail: string, field = 'body') => new AppError('MALFORMED_REQUEST', detail, { errors: [{ path: field, message: detail }] });

/** Counts, hashes and keeps the head of what flows through; fails the stream past `limit` bytes. */
class Inspector extends Transform {
  size = 0;
  readonly hash = createHash('sha256');
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;

  constructor(private readonly limit: number, private readonly overLimit: () => AppError) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) return done(this.overLimit());
    if (this.headLength < SNIFF_BYTES) {
      const piece = chunk.subarray(0, SNIFF_BYTES - this.headLength);
      this.headChunks.push(Buffer.from(piece)); // a copy: the head must not pin the whole chunk
      this.headLength += piece.length;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  head(): Buffer {
    return Buffer.concat(this.headChunks);
  }
}

// @fastify/multipart / busboy errors → our catalogue (the plugin's own codes carry 413 for "too
// many parts", which for us is a malformed request).
const MULTIPART_ERRORS: Record<string, () => AppError> = {
  FST_FILES_LIMIT: () => malformed('send exactly one `file` part', 'file'),
  FST_FIELDS_LIMIT: () => malformed('send exactly one `kind` field', 'kind'),
  FST_PARTS_LIMIT: () => malformed('send one `kind` field and one `file` part, nothing else'),
  FST_PROTO_VIOLATION: () => malformed('invalid field name'),
  FST_REQ_FILE_TOO_LARGE: () => new AppError('PAYLOAD_TOO_LARGE', 'file is too large'),
  FST_INVALID_MULTIPART_CONTENT_TYPE: () => new AppError('UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data with `kind` and `file`'),
  FST_MP_PREMATURE_CLOSE: () => malformed('the request ended before the upload was complete'),
};

function toUploadError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: string }).code;
  const mapped = code ? MULTIPART_ERRORS[code] : undefined;
  if (mapped) return mapped();
  // busboy: "Unexpected end of form", "Malformed part header", "Multipart: Boundary not found"…
  return malformed('the multipart body could not be parsed');
}

function parseKind(value: unknown): MediaKind {
  if (typeof value !== 'string') throw malformed('`kind` must be a text field', 'kind');
  if (!(KINDS as readonly string[]).includes(value)) {
    throw new AppError('VALIDATION_FAILED', '`kind` must be photo, video or avatar', { errors: [{ path: 'kind', message: 'must be photo, video or avatar' }] });
  }
  return value as MediaKind;
}

export async function receiveUpload(request: FastifyRequest, limits: UploadLimits): Promise<Spooled> {
  if (!request.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data with `kind` and `file`');
  const largest = Math.max(...Object.values(limits.perKind));
  let kind: MediaKind | undefined;
  let file: Omit<Spooled, 'kind'> | undefined;
  try {
    // busboy's own file limit (one byte above the largest kind limit) is only a backstop: the
    // Inspector stops the stream first, at the kind's limit.
    const parts = request.parts({ limits: { files: 1, fields: 1, parts: 2, fieldNameSize: 32, fieldSize: 64, headerPairs: 20, fileSize: largest + 1 } });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.fieldname !== 'kind') throw malformed(`unknown field \`${part.fieldname.slice(0, 32)}\``, part.fieldname.slice(0, 32));
        kind = parseKind(part.value);
      } else {
        file = await spool(part, kind, limits, largest);
      }
    }
  } catch (err) {
    if (file) await rm(file.path, { force: true });
    throw toUploadError(err);
  }
  try {
    if (!kind) throw malformed('`kind` is required (photo, video or avatar)', 'kind');
    if (!file) throw malformed('`file` is required', 'file');
    if (file.size === 0) throw malformed('the file is empty', 'file');
    if (file.size > limits.perKind[kind]) throw tooLarge(kind, limits.perKind[kind]);
    if (kind === 'video' && file.size > limits.quotaLeft) throw quotaExceeded();
    return { ...file, kind };
  } catch (err) {
    if (file) await rm(file.path, { force: true });
    throw err;
  }
}

const mib = (bytes: number) => `${Math.round((bytes / 1048576) * 10) / 10} MiB`;
const tooLarge = (kind: MediaKind, limit: number) => new AppError('PAYLOAD_TOO_LARGE', `a ${kind} may be at most ${mib(limit)}`);
export const quotaExceeded = () => new AppError('QUOTA_EXCEEDED', 'this upload would exceed your storage quota; delete some media first');

async function spool(part: Extract<Multipart, { type: 'file' }>, kind: MediaKind | undefined, limits: UploadLimits, largest: number) {
  if (part.fieldname !== 'file') {
    part.file.resume(); // drain it so parsing can go on to report the error
    throw malformed(`unknown file part \`${part.fieldname.slice(0, 32)}\`; the file goes in \`file\``, 'file');
  }
  // Videos are stored as uploaded, so their quota can be enforced on the stream; images are
  // re-encoded first and checked on their stored size.
  const kindLimit = kind ? limits.perKind[kind] : largest;
  const limit = kind === 'video' ? Math.min(kindLimit, limits.quotaLeft) : kindLimit;
  const overLimit = () => (kind === 'video' && limits.quotaLeft < kindLimit ? quotaExceeded() : kind ? tooLarge(kind, kindLimit) : new AppError('PAYLOAD_TOO_LARGE', `a file may be at most ${mib(largest)}`));
  const inspector = new Inspector(limit, overLimit);
  // The client's file name is never used: the temp name (and later the storage key) is generated.
  const tmp = path.join(limits.tmpDir, `${randomUUID()}.upload`);
  try {
    await pipeline(part.file, inspector, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    if (part.file.truncated) throw overLimit();
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { path: tmp, size: inspector.size, sha256: inspector.hash.digest('hex'), head: inspector.head() };
}
