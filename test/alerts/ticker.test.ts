// With ALERTS_ENABLED the instance evaluates on its own every ALERT_EVALUATION_INTERVAL_SECONDS,
// and stops cleanly with the app.
import { expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';

it('evaluates every interval without being asked, and stops on close', async () => {
  const t = await createTestApp({ env: { ALERTS_ENABLED: 'true', ALERT_EVALUATION_INTERVAL_SECONDS: '5', ALERT_DISK_FREE_PERCENT: '100' } });
  try {
    const firing = () => t.db.withSystem((tx) => tx.query<{ rule: string }>(sql`select rule from alerts where status = 'firing'`));
    expect(await firing()).toEqual([]);
    await waitFor(async () => (await firing()).some((r) => r.rule === 'disk_space'), 15_000, 'the ticker to fire disk_space');
  } finally {
    await t.close();
  }
});
