// The media module: builds the configured store, shares it (`app.storage`: readiness probe; the
// store bound to the database: jobs), and registers the API routes and, for the local store, the
// signed-URL delivery route.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import fp from 'fastify-plugin';
import { bindStorage, createStorage, unbindStorage } from '../../storage/index.js';
import { LocalStorage } from '../../storage/local.js';
import type { Storage } from '../../storage/types.js';
import fileRoutes from './file-routes.js';
import mediaRoutes from './routes.js';
import { createMediaService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where media bytes live (local disk or S3). */
    storage: Storage;
  }
}

const STALE_TEMP_MS = 3_600_000;

/** Temp files a crash left behind (uploads being spooled are minutes old at most). */
async function removeStaleFiles(dir: string, now: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const file = path.join(dir, name);
    const s = await stat(file).catch(() => null);
    if (s?.isFile() && now - s.mtimeMs > STALE_TEMP_MS) await rm(file, { force: true });
  }
}

export default fp(
  async (app) => {
    const storage = createStorage(app.config);
    app.decorate('storage', storage);
    bindStorage(app.db, storage);
    app.addHook('onClose', async () => {
      unbindStorage(app.db, storage);
      await storage.close();
    });

    const media = createMediaService({ db: app.db, clock: app.clock, config: app.config, storage, log: app.log });
    app.addHook('onReady', async () => {
      await removeStaleFiles(media.tmpDir, Date.now());
      if (storage instanceof LocalStorage) await storage.removeStaleTemp(STALE_TEMP_MS, new Date());
    });

    await app.register(mediaRoutes, { prefix: '/api/v1', media });
    if (storage instanceof LocalStorage) await app.register(fileRoutes, { storage, signer: storage.signer });
  },
  { name: 'media', dependencies: ['core', 'errors', 'auth'] },
);
