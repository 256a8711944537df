// Privacy: what a phone camera writes into a photo (GPS position, device, time, XMP, a wide-gamut
// ICC profile) never reaches the stored file; the orientation tag's effect is kept by rotating the
// pixels before the tag goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { sha256, tempDataDir, upload } from './helpers.js';

let t: TestContext;
let alice: TestUser;

beforeAll(async () => {
  t = await createTestApp({ env: { DATA_DIR: tempDataDir() } });
  alice = await t.users.create();
});
afterAll(() => t.close());

const gpsExif = {
  IFD0: { Make: 'PhoneMaker', Model: 'Phone 15', ImageDescription: 'GPS home address', Copyright: 'Alice' },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 2600/100', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 3900/100', GPSMapDatum: 'GPS-WGS-84' },
};

async function camera(width: number, height: number, orientation?: number) {
  let img = sharp({ create: { width, height, channels: 3, background: '#c08040' } })
    .withExif(gpsExif)
    .withIccProfile('p3')
    .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>GPS secret</rdf:Description></rdf:RDF></x:xmpmeta>');
  if (orientation) img = img.withMetadata({ orientation });
  return img.jpeg().toBuffer();
}

describe('metadata is stripped', () => {
  it('a JPEG with GPS EXIF, XMP and an ICC profile comes back with none of it', async () => {
    const original = await camera(80, 60);
    const before = await sharp(original).metadata();
    expect(before.exif).toBeDefined();
    expect(before.xmp).toBeDefined();
    expect(before.icc).toBeDefined();
    expect(original.includes('GPS')).toBe(true);

    for (const kind of ['photo', 'avatar'] as const) {
      const res = await upload(t, alice, kind, original);
      expect(res.statusCode).toBe(201);
      const bytes = (await t.app.inject({ url: res.json().url })).rawPayload;
      expect(sha256(bytes)).toBe(res.json().sha256);
      const after = await sharp(bytes).metadata();
      expect(after.exif).toBeUndefined();
      expect(after.xmp).toBeUndefined();
      expect(after.iptc).toBeUndefined();
      expect(after.icc).toBeUndefined(); // converted to sRGB, profile dropped
      expect(bytes.includes('GPS')).toBe(false);
      expect(bytes.includes('PhoneMaker')).toBe(false);
      expect(bytes.includes('Alice')).toBe(false);
    }
  });

  it('EXIF orientation is applied to the pixels (a 6 = rotate 90° photo comes back upright)', async () => {
    const sideways = await camera(80, 40, 6);
    expect((await sharp(sideways).metadata()).orientation).toBe(6);
    const res = await upload(t, alice, 'photo', sideways);
    expect(res.json()).toMatchObject({ width: 40, height: 80 });
    const after = await sharp((await t.app.inject({ url: res.json().url })).rawPayload).metadata();
    expect(after).toMatchObject({ width: 40, height: 80 });
    expect(after.orientation).toBeUndefined();
  });
});
