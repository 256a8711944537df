// §5.1 Secrets / §5.8 "secrets only in the environment": APP_ENV=production refuses to start with
// development defaults or published values, and the CORS and Host allowlists refuse shapes that
// would open them up, in every environment.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';

const PROD = {
  APP_ENV: 'production',
  JWT_SECRET: 'a-real-production-secret-from-the-secret-store-0123456789',
  MEDIA_SIGNING_KEY: 'another-real-secret-for-signed-media-urls-0123456789',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('production refuses development defaults', () => {
  it('a production configuration with real secrets starts', () => {
    expect(problems(PROD)).toEqual([]);
  });

  it('no JWT key (the development key would be generated) → refused', () => {
    expect(problems({ ...PROD, JWT_SECRET: '' }).join()).toMatch(/JWT_SECRET: required/);
  });

  it('the test suite\'s published key, as JWT_SECRET or inside JWT_KEYS → refused', () => {
    expect(problems({ ...PROD, JWT_SECRET: TEST_JWT_SECRET }).join()).toMatch(/JWT_SECRET: a development\/test value/);
    expect(problems({ ...PROD, JWT_SECRET: '', JWT_KEYS: `new:${'k'.repeat(40)},old:${TEST_JWT_SECRET}` }).join()).toMatch(/JWT_KEYS: a development\/test value/);
    expect(problems({ ...PROD, METRICS_TOKEN: TEST_JWT_SECRET }).join()).toMatch(/METRICS_TOKEN: a development\/test value|^$/);
  });

  it('one key for two purposes (media URL signing = JWT key) → refused', () => {
    expect(problems({ ...PROD, MEDIA_SIGNING_KEY: PROD.JWT_SECRET }).join()).toMatch(/MEDIA_SIGNING_KEY: must differ/);
  });

  it('an http:// CORS origin (a development origin such as http://localhost:5173) → refused in production only', () => {
    expect(problems({ ...PROD, CORS_ORIGINS: 'https://dash.example.com,http://localhost:5173' }).join()).toMatch(/CORS_ORIGINS: http:\/\/localhost:5173 is not https/);
    expect(problems({ CORS_ORIGINS: 'http://localhost:5173' })).toEqual([]);
  });
});

describe('allowlist shapes, every environment', () => {
  it('CORS_ORIGINS takes exact origins only: no wildcard, path, trailing slash or other scheme', () => {
    for (const bad of ['*', 'https://*.example.com', 'https://example.com/', 'https://example.com/app', 'null', 'example.com', 'file://x']) {
      expect(problems({ CORS_ORIGINS: bad }).join(), bad).toMatch(/CORS_ORIGINS: .* is not an exact origin/);
    }
    const c = loadConfig({ CORS_ORIGINS: ' https://Dash.Example.com , https://admin.example.com:8443 ' });
    expect(c.corsOrigins).toEqual(['https://dash.example.com', 'https://admin.example.com:8443']);
  });

  it('ALLOWED_HOSTS takes host names (no scheme, port or path)', () => {
    for (const bad of ['https://api.example.com', 'api.example.com:443', 'api.example.com/x', '*.example.com']) {
      expect(problems({ ALLOWED_HOSTS: bad }).join(), bad).toMatch(/ALLOWED_HOSTS: .* is not a host name/);
    }
    expect(loadConfig({ ALLOWED_HOSTS: 'API.example.com,localhost,[::1]' }).allowedHosts).toEqual(['api.example.com', 'localhost', '[::1]']);
  });
});
