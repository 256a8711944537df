// Media and storage configuration: limits from the environment, the S3 switch, and production's
// refusal of a generated signing key.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';

const prod = { APP_ENV: 'production', JWT_SECRET: 'j'.repeat(40) };

describe('media configuration', () => {
  it('defaults: local storage, 10/5/50 MiB, 40 MP, 1 GiB quota, 5-minute URLs', () => {
    expect(loadConfig({})).toMatchObject({
      mediaStorage: 'local',
      MEDIA_MAX_PHOTO_BYTES: 10 * 1024 * 1024,
      MEDIA_MAX_AVATAR_BYTES: 5 * 1024 * 1024,
      MEDIA_MAX_VIDEO_BYTES: 50 * 1024 * 1024,
      MEDIA_MAX_IMAGE_PIXELS: 40_000_000,
      MEDIA_QUOTA_BYTES: 1024 ** 3,
      MEDIA_URL_TTL_SECONDS: 300,
    });
  });

  it('production with local storage requires MEDIA_SIGNING_KEY; with S3 it is not needed', () => {
    expect(() => loadConfig(prod)).toThrow(/MEDIA_SIGNING_KEY/);
    expect(loadConfig({ ...prod, MEDIA_SIGNING_KEY: 'm'.repeat(40) }).isProduction).toBe(true);
    expect(loadConfig({ ...prod, S3_BUCKET: 'media-bucket', S3_REGION: 'eu-west-1' }).mediaStorage).toBe('s3');
    expect(() => loadConfig({ MEDIA_SIGNING_KEY: 'too-short' })).toThrow(/MEDIA_SIGNING_KEY/);
  });

  it('S3: a bucket needs a region or an endpoint; keys come in pairs', () => {
    expect(() => loadConfig({ S3_BUCKET: 'media-bucket' })).toThrow(/S3_REGION/);
    expect(loadConfig({ S3_BUCKET: 'media-bucket', S3_ENDPOINT: 'http://127.0.0.1:9000' }).mediaStorage).toBe('s3');
    expect(() => loadConfig({ S3_BUCKET: 'media-bucket', S3_REGION: 'x', S3_ACCESS_KEY_ID: 'AKIA' })).toThrow(/S3_ACCESS_KEY_ID/);
    expect(() => loadConfig({ S3_KEY_PREFIX: '../x' })).toThrow(/S3_KEY_PREFIX/);
    expect(() => loadConfig({ MEDIA_PUBLIC_BASE_URL: 'javascript:alert(1)' })).toThrow(/MEDIA_PUBLIC_BASE_URL/);
  });
});
