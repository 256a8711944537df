import { Writable } from 'node:stream';
import { loggerOptions } from '../../src/logger.js';

/** The app's real logger options (with redaction), writing into memory for inspection. */
export function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const base = loggerOptions({ LOG_LEVEL: 'trace' }) as Record<string, unknown>;
  return { lines, logger: { ...base, stream } };
}
