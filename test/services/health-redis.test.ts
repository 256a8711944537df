// Readiness with a real Redis (§5.3): the rate limiter's own connection is pinged when the limiter
// runs on Redis; a short-lived connection otherwise. Both pass; a wrong database port fails.
import { expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';

const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

it('passes through the rate limiter\'s connection', async () => {
  const t = await createTestApp({ env: { REDIS_URL: REDIS, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_KEY_PREFIX: `health-${process.pid}` } });
  try {
    expect(t.app.rateLimit.redis).toBeDefined();
    const res = await t.app.inject({ url: '/health/ready' });
    expect(res.json().checks.redis).toMatchObject({ status: 'pass' });
  } finally {
    await t.close();
  }
});

it('passes with a short-lived connection when the limiter is off', async () => {
  const t = await createTestApp({ env: { REDIS_URL: REDIS } });
  try {
    expect(t.app.rateLimit.redis).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({ url: '/health/ready' });
      expect(res.json().checks.redis).toMatchObject({ status: 'pass' });
    }
  } finally {
    await t.close();
  }
});
