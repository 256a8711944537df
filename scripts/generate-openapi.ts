// Writes docs/openapi.json from the route schemas; with --check, fails if the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDriver } from '../src/db/client.js';
import { Database } from '../src/db/database.js';

const target = new URL('../docs/openapi.json', import.meta.url);
const config = loadConfig({ APP_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'openapi-generation-only-secret-0123456789abcdef' });
const db = new Database(await openDriver({ pgliteDir: null }));
const app = await buildApp({ config, db });
const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
await app.close();
await db.close();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== doc) {
    console.error('docs/openapi.json is out of date: run `npm run openapi:generate` and commit it');
    process.exit(1);
  }
  console.log('docs/openapi.json is current');
} else {
  writeFileSync(target, doc);
  console.log('wrote docs/openapi.json');
}
