// PostgreSQL may abort one of two transactions that touch the same rows in opposite orders (deadlock,
// 40P01) or under serializable isolation (40001). Both mean "nothing happened, try again", so the
// whole transaction is re-run a few times instead of surfacing a 500. PGlite runs one transaction at
// a time and never raises them.
import { pgErrorCode } from '../../db/database.js';

const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 5;

export async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= ATTEMPTS || !RETRYABLE.has(pgErrorCode(err) ?? '')) throw err;
      // Jitter so the transactions that collided do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
