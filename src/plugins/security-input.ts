// Input hygiene (§5.1): a NUL character (U+0000) in any string of a request — body, query or path
// parameter — is refused with 400 before validation. PostgreSQL cannot store NUL in text, so
// otherwise a `\u0000` in a display name, a search term or a caption would reach the database and
// fail there as a 500; no legitimate client sends one.
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

/** True when `value` (any JSON value) holds a string with U+0000, at any depth. */
export function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  if (Array.isArray(value)) return value.some((v) => containsNul(v, depth + 1));
  for (const key in value) {
    if (key.includes('\u0000') || containsNul((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

export default fp(
  (app) => {
    app.addHook('preValidation', async (request) => {
      if (containsNul(request.query) || containsNul(request.params) || containsNul(request.body)) {
        throw new AppError('MALFORMED_REQUEST', 'NUL characters (U+0000) are not accepted');
      }
    });
  },
  { name: 'security-input', dependencies: ['errors'] },
);
