// Builds the configured store (S3 when S3_BUCKET is set, else DATA_DIR/media) and lets code that
// has no Fastify instance (scheduled jobs, the CLI) reach the same one.
import path from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import type { Storage } from './types.js';
import { signerFromConfig } from './url-signer.js';

export type { Storage } from './types.js';

export function mediaDir(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'media');
}

export function createStorage(config: Config): Storage {
  if (config.mediaStorage === 's3') {
    return new S3Storage({
      bucket: config.S3_BUCKET!,
      region: config.S3_REGION ?? 'us-east-1',
      endpoint: config.S3_ENDPOINT,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      credentials:
        config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
          : undefined,
      keyPrefix: config.S3_KEY_PREFIX,
    });
  }
  return new LocalStorage({
    root: mediaDir(config),
    signer: signerFromConfig(config),
    baseUrl: (config.MEDIA_PUBLIC_BASE_URL ?? '').replace(/\/+$/, ''),
  });
}

// Jobs receive the Database, not the app. The media plugin binds its store to the app's database,
// so a job run by the server's scheduler uses exactly the server's store; a job run from the CLI
// (no app) gets one built from the environment.
const bound = new WeakMap<object, Storage>();

export function bindStorage(db: object, storage: Storage): void {
  bound.set(db, storage);
}

export function unbindStorage(db: object, storage: Storage): void {
  if (bound.get(db) === storage) bound.delete(db);
}

export function storageFor(db: object): Storage {
  const existing = bound.get(db);
  if (existing) return existing;
  const storage = createStorage(loadConfig());
  bound.set(db, storage);
  return storage;
}
