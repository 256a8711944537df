import { defineConfig } from 'vitest/config';

// `npm run test:services`: the same suite against real PostgreSQL (each test file gets its own
// database) plus the tests that only make sense with real services (Redis, several processes).
// globalSetup fails the run — never skips — when a service is unreachable. test/cli is left out:
// its tests start `darezone` processes on the embedded default whatever the services are, so here
// they would only repeat `npm test` (about two minutes of CI).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', 'test/cli/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/helpers/services-setup.ts'],
    env: {
      APP_ENV: 'test',
      LOG_LEVEL: 'silent',
      TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      TEST_REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    },
  },
});
