// Platform-admin job control (§5.5): list with last/next run, run history, trigger now.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { JobList, JobNameParams, RunsPage, RunsQuery, Triggered } from './schemas.js';
import { jobHistory, listJobs, triggerJob } from './service.js';

const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const config = { admin: true };
  const tags = ['admin'];
  app.get('/api/v1/admin/jobs', { config, schema: { tags, summary: 'Jobs with schedule, next and last run', response: { 200: JobList } } },
    async () => listJobs(app));
  app.get('/api/v1/admin/jobs/:name/runs', {
    config,
    schema: { tags, summary: 'Run history of a job, newest first', params: JobNameParams, querystring: RunsQuery, response: { 200: RunsPage } },
  }, async (request) => jobHistory(app, request.params.name, request.query));
  app.post('/api/v1/admin/jobs/:name/run', {
    config,
    schema: { tags, summary: 'Run a job now (409 while it runs)', params: JobNameParams, response: { 202: Triggered } },
  }, async (request, reply) => reply.code(202).send(await triggerJob(app, request.params.name)));
};

export default jobRoutes;
