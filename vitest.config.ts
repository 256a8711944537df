import { defineConfig } from 'vitest/config';

// `npm test`: the embedded default — every test file gets its own in-memory PGlite, no services.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/services/**', 'node_modules/**'],
    pool: 'forks',
    globalSetup: ['test/helpers/pglite-template.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { APP_ENV: 'test', LOG_LEVEL: 'silent' },
    reporters: ['default'],
  },
});
