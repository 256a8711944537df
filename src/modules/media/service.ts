// Media rules (SPEC §5.1 Uploads). An upload goes: multipart → temp file (limit enforced while
// streaming) → type by magic bytes → images re-encoded / videos' metadata wiped → stored object → row.
// Nothing is ever half-written: the row is inserted only after the object is stored, and if the
// insert fails (quota, database) the object is deleted again; a crash in between leaves an object
// without a row, which the media.orphans job removes.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { AppError, notFound } from '../../errors.js';
import type { Clock } from '../../plugins/core.js';
import type { Storage } from '../../storage/types.js';
import { reencodeImage } from './images.js';
import * as repo from './repository.js';
import { sniff } from './sniff.js';
import { DamagedVideoError, scrubVideoMetadata } from './video-metadata.js';
import { quotaExceeded, receiveUpload, type MediaKind, type Spooled } from './upload.js';

export interface MediaDeps {
  db: Database;
  clock: Clock;
  config: Config;
  storage: Storage;
  log: FastifyBaseLogger;
}

interface Prepared {
  path: string;
  size: number;
  sha256: string;
  contentType: string;
  ext: string;
  width: number | null;
  height: number | null;
}

const EXT_BY_TYPE: Record<string, string> = { 'image/jpeg': 'jpg', 'image/webp': 'webp', 'video/mp4': 'mp4', 'video/quicktime': 'mov' };

export const extensionFor = (contentType: string) => EXT_BY_TYPE[contentType] ?? 'bin';
/** Images and videos both inline: the type is ours, nosniff and the sandbox CSP keep it inert. */
export const dispositionFor = (row: Pick<repo.MediaRow, 'id' | 'content_type'>) => `inline; filename="${row.id}.${extensionFor(row.content_type)}"`;

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

const unsupported = (detail: string) => new AppError('UNSUPPORTED_MEDIA_TYPE', detail, { errors: [{ path: 'file', message: detail }] });

export function createMediaService({ db, clock, config, storage, log }: MediaDeps) {
  const tmpDir = path.join(config.dataDir, 'tmp', 'uploads');
  const perKind: Record<MediaKind, number> = {
    photo: config.MEDIA_MAX_PHOTO_BYTES,
    avatar: config.MEDIA_MAX_AVATAR_BYTES,
    video: config.MEDIA_MAX_VIDEO_BYTES,
  };

  /** Decides the type by content and produces the bytes to store. */
  async function prepare(upload: Spooled): Promise<Prepared> {
    const detected = sniff(upload.head);
    const wantsImage = upload.kind !== 'video';
    if (detected.family === 'heic') throw unsupported('HEIC/HEIF/AVIF images are not supported: send JPEG, PNG or WebP');
    if (wantsImage) {
      if (detected.family !== 'image') throw unsupported(`a ${upload.kind} must be a JPEG, PNG or WebP image`);
      const output = `${upload.path}.out`;
      const image = await reencodeImage(upload.path, output, {
        expected: detected.format,
        avatar: upload.kind === 'avatar',
        maxPixels: config.MEDIA_MAX_IMAGE_PIXELS,
      });
      const size = (await stat(output)).size;
      return { path: output, size, sha256: await sha256Of(output), contentType: image.contentType, ext: image.ext, width: image.width, height: image.height };
    }
    if (detected.family !== 'video') throw unsupported('a video must be an MP4 or QuickTime (MOV) file');
    // Stored as uploaded (no transcoding) but with its metadata boxes (location, device) wiped in place.
    let wiped: number;
    try {
      wiped = await scrubVideoMetadata(upload.path);
    } catch (err) {
      if (err instanceof DamagedVideoError) throw new AppError('INVALID_MEDIA', err.message, { errors: [{ path: 'file', message: err.message }] });
      throw err;
    }
    const sha256 = wiped > 0 ? await sha256Of(upload.path) : upload.sha256;
    return { path: upload.path, size: upload.size, sha256, contentType: detected.contentType, ext: detected.format, width: null, height: null };
  }

  async function present(row: repo.MediaRow) {
    const now = clock.now();
    const ttl = config.MEDIA_URL_TTL_SECONDS;
    const url = await storage.signedUrl({
      key: row.storage_key,
      id: row.id,
      contentType: row.content_type,
      contentDisposition: dispositionFor(row),
      expiresInSeconds: ttl,
      now,
    });
    return {
      id: row.id,
      kind: row.kind,
      content_type: row.content_type,
      size: row.size_bytes,
      ...(row.width !== null ? { width: row.width } : {}),
      ...(row.height !== null ? { height: row.height } : {}),
      sha256: row.sha256,
      created_at: row.created_at,
      url,
      url_expires_at: new Date(Math.floor(now.getTime() / 1000) * 1000 + ttl * 1000),
    };
  }

  async function upload(userId: string, request: FastifyRequest) {
    // A cheap early refusal for a full quota; the authoritative check is under the lock below.
    const used = await db.withUser(userId, (tx) => repo.usedBytes(tx, userId));
    const quotaLeft = config.MEDIA_QUOTA_BYTES - used;
    if (quotaLeft <= 0) throw quotaExceeded();

    await mkdir(tmpDir, { recursive: true });
    const spooled = await receiveUpload(request, { perKind, quotaLeft, tmpDir });
    const temps = [spooled.path, `${spooled.path}.out`];
    try {
      const prepared = await prepare(spooled);
      const id = randomUUID();
      const key = `${userId}/${id}.${prepared.ext}`;
      await storage.put(key, createReadStream(prepared.path), { contentType: prepared.contentType, size: prepared.size });
      try {
        const row = await db.withUser(userId, async (tx) => {
          await repo.lockQuota(tx, userId);
          if ((await repo.usedBytes(tx, userId)) + prepared.size > config.MEDIA_QUOTA_BYTES) throw quotaExceeded();
          return repo.insert(tx, {
            id,
            owner_id: userId,
            kind: spooled.kind,
            content_type: prepared.contentType,
            size_bytes: prepared.size,
            width: prepared.width,
            height: prepared.height,
            storage_key: key,
            sha256: prepared.sha256,
            created_at: clock.now(),
          });
        });
        return present(row);
      } catch (err) {
        await storage.delete(key).catch((e: unknown) => log.warn({ err: e, key }, 'could not remove the stored object of a failed upload (media.orphans will)'));
        throw err;
      }
    } finally {
      await Promise.all(temps.map((t) => rm(t, { force: true })));
    }
  }

  async function get(userId: string, id: string) {
    const row = await db.withUser(userId, (tx) => repo.findVisible(tx, id));
    if (!row) throw notFound('media');
    return present(row);
  }

  async function remove(userId: string, id: string): Promise<void> {
    const key = await db.withUser(userId, async (tx) => {
      const row = await repo.findVisible(tx, id);
      if (!row) throw notFound('media');
      if (row.owner_id !== userId) throw new AppError('FORBIDDEN', 'only the owner can delete media');
      const refs = await repo.references(tx, id);
      if (refs.checkins > 0 || refs.avatars > 0) {
        const what = refs.avatars > 0 ? 'it is your profile avatar' : 'a check-in uses it';
        throw new AppError('MEDIA_IN_USE', `cannot delete: ${what}`);
      }
      return repo.deleteOwned(tx, id, userId);
    });
    if (!key) throw notFound('media');
    // After the commit: a failure here leaves an object without a row (removed by media.orphans),
    // never a row without its object.
    await storage.delete(key).catch((err: unknown) => log.warn({ err, key }, 'could not delete a stored media object (media.orphans will)'));
  }

  return { upload, get, remove, tmpDir };
}

export type MediaService = ReturnType<typeof createMediaService>;
