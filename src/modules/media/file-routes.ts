// GET /media/files/{id}?expires=&sig= — the bytes of a locally stored media item. Public (no token:
// an <img>/<video> element or a player cannot send one); the HMAC signature in the URL, handed out
// by GET /api/v1/media/{id} to someone allowed to read the media, is the authorisation. Expired or
// tampered → 403. Only registered for the local store; on S3 clients use presigned bucket URLs.
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, notFound } from '../../errors.js';
import { IdParams } from '../../lib/schemas.js';
import { ObjectNotFoundError, type ByteRange, type Storage } from '../../storage/types.js';
import type { UrlSigner } from '../../storage/url-signer.js';
import * as repo from './repository.js';
import { SignedFileQuery } from './schemas.js';
import { dispositionFor } from './service.js';

// The bytes are streamed, never serialised: the schema only documents them.
const Binary = Type.Unsafe<Readable>({ type: 'string', format: 'binary' });

/** One `bytes=a-b` / `bytes=a-` / `bytes=-n` range, or null (absent, multiple or unsatisfiable: whole file). */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || size === 0 || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start <= end && start < size ? { start, end } : null;
}

const fileRoutes: FastifyPluginAsyncTypebox<{ storage: Storage; signer: UrlSigner }> = async (app, { storage, signer }) => {
  app.get('/media/files/:id', {
    config: { public: true },
    schema: {
      tags: ['media'],
      summary: 'The bytes of a media item, through a signed URL from GET /api/v1/media/{id} (local storage)',
      description: 'No token: the signature is the authorisation. 403 when expired or tampered. Supports a single byte Range (video seeking).',
      security: [],
      params: IdParams,
      querystring: SignedFileQuery,
      response: { 200: Binary, 206: Binary, 304: Type.Null() },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    const { expires, sig } = request.query;
    const now = app.clock.now();
    const verdict = signer.verify(id, expires, sig, now);
    if (verdict !== 'valid') {
      throw new AppError('FORBIDDEN', verdict === 'expired' ? 'this link has expired: GET /api/v1/media/{id} gives a fresh one' : 'invalid signature');
    }
    const row = await app.db.withSystem((tx) => repo.findForDelivery(tx, id));
    if (!row) throw notFound('media');

    const maxAge = Math.max(0, expires - Math.floor(now.getTime() / 1000));
    void reply.headers({
      'content-type': row.content_type,
      'x-content-type-options': 'nosniff',
      'content-disposition': dispositionFor(row),
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': `private, max-age=${maxAge}`,
      'accept-ranges': 'bytes',
      etag: `"${row.sha256}"`,
    });
    if (request.headers['if-none-match'] === `"${row.sha256}"`) return reply.code(304).send(null);

    const range = parseRange(request.headers.range, row.size_bytes);
    const stream = await storage.getStream(row.storage_key, range ?? undefined).catch((err: unknown) => {
      if (!(err instanceof ObjectNotFoundError)) throw err;
      request.log.warn({ media_id: id }, 'media row without its stored object');
      throw notFound('media');
    });
    if (range) {
      void reply.code(206).headers({ 'content-range': `bytes ${range.start}-${range.end}/${row.size_bytes}`, 'content-length': String(range.end - range.start + 1) });
    } else {
      void reply.header('content-length', String(row.size_bytes));
    }
    return reply.send(stream);
  });
};

export default fileRoutes;
