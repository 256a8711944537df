// /api/v1/media: upload (multipart), read metadata + a fresh signed URL, delete. Multipart parsing
// is registered in this plugin's scope only: every other route still refuses multipart bodies.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { IdParams } from '../../lib/schemas.js';
import { Media, UploadBody } from './schemas.js';
import type { MediaService } from './service.js';

const mediaRoutes: FastifyPluginAsyncTypebox<{ media: MediaService }> = async (app, { media }) => {
  // Limits that do not depend on the request; the per-kind file limits are applied by upload.ts.
  await app.register(multipart, { limits: { files: 1, fields: 1, parts: 2, fieldSize: 64, headerPairs: 20 } });
  const tags = ['media'];

  app.post('/media', {
    // The body is a stream read by the handler; the schema documents it without validating it.
    validatorCompiler: () => () => true,
    config: { longBody: true }, // UPLOAD_TIMEOUT_MS, not REQUEST_TIMEOUT_MS (plugins/security-body-deadline.ts)
    schema: {
      tags,
      summary: 'Upload a photo, video or avatar (multipart: `kind`, then `file`)',
      description: [
        'multipart/form-data with a `kind` field (photo | video | avatar) and one `file` part; send `kind` first so its',
        'limit applies while the file streams (the largest limit applies otherwise, the kind\'s once known).',
        'Type is decided by content: photos and avatars JPEG, PNG or WebP (re-encoded, metadata stripped, orientation',
        'applied; avatars cropped to 512×512); videos MP4 or MOV (stored as uploaded). 413 over the size limit, the pixel',
        'limit or the quota (code QUOTA_EXCEEDED); 415 for any other type; 422 for an image that cannot be decoded.',
      ].join(' '),
      consumes: ['multipart/form-data'],
      body: UploadBody,
      response: { 201: Media },
    },
  }, async (request, reply) => {
    try {
      return reply.code(201).send(await media.upload(request.user.id, request));
    } catch (err) {
      // Refused before the body was read to the end: close the connection after the answer rather
      // than read (and throw away) the rest of a possibly huge upload.
      if (!request.raw.complete) void reply.header('connection', 'close');
      throw err;
    }
  });

  app.get('/media/:id', {
    schema: {
      tags,
      summary: 'Media metadata and a fresh short-lived URL of its bytes',
      description: 'Readable by the owner, by members of a challenge whose check-in uses it, and (avatars) by any signed-in user; 404 otherwise.',
      params: IdParams,
      response: { 200: Media },
    },
  }, (request) => media.get(request.user.id, request.params.id));

  app.delete('/media/:id', {
    schema: {
      tags,
      summary: 'Delete my media (409 MEDIA_IN_USE while a check-in or my profile uses it)',
      params: IdParams,
      response: { 204: Type.Null() },
    },
  }, async (request, reply) => {
    await media.remove(request.user.id, request.params.id);
    return reply.code(204).send(null);
  });
};

export default mediaRoutes;
