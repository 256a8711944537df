// Platform-admin backups (§5.4): the list (directory and table merged, newest first) and "back up
// now", which runs the backup.create job through the scheduler (so it is recorded and never
// overlaps a scheduled run: 409 while one runs).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bindBackupConfig, backupDepsFor, listBackups } from '../../backup/index.js';
import { AppError } from '../../errors.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { PageQuery, Page, Timestamp, Uuid } from '../../lib/schemas.js';
import { JobBusyError } from '../../jobs/scheduler.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Backup = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
  created_at: Timestamp,
  size_bytes: Nullable(Type.Integer({ description: 'Bytes this backup added to BACKUP_DIR (dump + new media blobs)' })),
  duration_ms: Nullable(Type.Integer()),
  location: Nullable(Type.String()),
  error: Nullable(Type.String()),
  verified_at: Nullable(Timestamp),
  verify_status: Nullable(Type.Union([Type.Literal('passed'), Type.Literal('failed')])),
  verify_duration_ms: Nullable(Type.Integer()),
  verify_error: Nullable(Type.String()),
  engine: Type.String({ description: 'pglite or postgres' }),
  local: Type.Boolean({ description: 'A complete copy is in BACKUP_DIR' }),
});

const backupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  bindBackupConfig(app.db, app.config);
  const config = { admin: true };
  const tags = ['admin'];
  app.get('/api/v1/admin/backups', {
    config,
    schema: { tags, summary: 'Backups, newest first', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: Page(Backup) } },
  }, async (request) => {
    const after = decodeCursor(request.query.cursor, 1) as [string] | undefined;
    const all = await listBackups(backupDepsFor(app.db, app.clock));
    const rest = after ? all.filter((b) => b.id < after[0]) : all;
    return toPage(rest.slice(0, request.query.limit + 1), request.query.limit, (b) => [b.id]);
  });
  app.post('/api/v1/admin/backups', {
    config,
    schema: {
      tags,
      summary: 'Back up now (runs the backup.create job; 409 while a backup runs)',
      response: { 202: Type.Object({ run_id: Uuid, job: Type.Literal('backup.create'), status: Type.Literal('running') }) },
    },
  }, async (_request, reply) => {
    try {
      const { runId, done } = await app.scheduler.trigger('backup.create');
      void done.catch((err: unknown) => app.log.error({ err }, 'backup run failed to record'));
      return reply.code(202).send({ run_id: runId, job: 'backup.create' as const, status: 'running' as const });
    } catch (err) {
      if (err instanceof JobBusyError) throw new AppError('CONFLICT', 'A backup is already running');
      throw err;
    }
  });
};

export default backupRoutes;
