import { Type } from 'typebox';
import { Timestamp, Uuid } from '../../lib/schemas.js';

export const MediaKindSchema = Type.Union([Type.Literal('photo'), Type.Literal('video'), Type.Literal('avatar')]);

export const Media = Type.Object({
  id: Uuid,
  kind: MediaKindSchema,
  content_type: Type.String({ description: 'What is stored and served: image/jpeg, image/webp (images with transparency), video/mp4 or video/quicktime' }),
  size: Type.Integer({ description: 'Stored size in bytes (after re-encoding for images)' }),
  width: Type.Optional(Type.Integer({ description: 'Images only: pixels after orientation was applied' })),
  height: Type.Optional(Type.Integer()),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) of the stored bytes' }),
  created_at: Timestamp,
  url: Type.String({
    description: 'Short-lived URL of the bytes, usable without a token (signed). Root-relative (/media/files/…) on local storage unless MEDIA_PUBLIC_BASE_URL is set; an absolute presigned URL on S3. Fetch a fresh one with GET /media/{id} when it expires.',
  }),
  url_expires_at: Timestamp,
});

/**
 * Documentation only: the body is multipart, read as a stream by the handler (upload.ts), never
 * parsed into an object, so this schema is not used for validation.
 */
export const UploadBody = Type.Object(
  {
    kind: MediaKindSchema,
    file: Type.String({ format: 'binary', description: 'The image or video. Send `kind` first so its own size limit applies while the file streams.' }),
  },
  { required: ['kind', 'file'], additionalProperties: false, description: 'Any other field or a second file part is refused (400).' },
);

export const SignedFileQuery = Type.Object(
  {
    expires: Type.Integer({ minimum: 0, maximum: 99999999999, description: 'Unix time (seconds) the URL stops working' }),
    sig: Type.String({ minLength: 1, maxLength: 128, description: 'HMAC-SHA256 of the media id and expiry (base64url)' }),
  },
  { additionalProperties: false },
);
