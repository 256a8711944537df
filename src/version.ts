import { readFileSync } from 'node:fs';

// Read at runtime (not imported) so the compiled dist/ and the sources both find the one package.json.
export const APP_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
