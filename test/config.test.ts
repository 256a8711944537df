import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_SCHEMA, loadConfig } from '../src/config.js';
import { renderEnvExample } from '../src/config-example.js';

describe('config', () => {
  it('defaults need no environment at all', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', APP_ENV: 'development', embedded: true, trustProxy: [] });
  });

  it('names every bad variable', () => {
    try {
      loadConfig({ PORT: 'abc', DATABASE_URL: 'nonsense', APP_ENV: 'staging' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const names = (err as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(names).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'APP_ENV']));
    }
  });

  it('production refuses development defaults', () => {
    expect(() => loadConfig({ APP_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(loadConfig({ APP_ENV: 'production', JWT_SECRET: 'x'.repeat(40), MEDIA_SIGNING_KEY: 'm'.repeat(40) }).isProduction).toBe(true);
  });

  it('empty values mean "use the default"', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ PORT: 3000, embedded: true });
  });

  it('.env.example is generated from the schema and current (npm run env:example)', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    expect(example).toBe(renderEnvExample());
    for (const name of Object.keys(ENV_SCHEMA.properties)) expect(example).toContain(`${name}=`);
  });
});
