// Videos keep their bytes but lose where they were filmed: the metadata boxes phones write (Android
// moov/udta ©xyz, iOS moov/meta keys+ilst, XMP in uuid boxes, per-track udta) become zeroed `free`
// boxes in place; everything a player needs (mvhd, tkhd, mdat) is byte for byte the same. A
// container whose boxes do not fit together is refused with 422.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DamagedVideoError, scrubVideoMetadata } from '../../../src/modules/media/video-metadata.js';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { sha256, tempDataDir, upload } from './helpers.js';

const box = (type: string, ...payload: Buffer[]) => {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};
/** A box with a 64-bit size field (size = 1), as cameras write for large mdat boxes. */
const largeBox = (type: string, body: Buffer) => {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(1, 0);
  header.write(type, 4, 'latin1');
  header.writeBigUInt64BE(BigInt(16 + body.length), 8);
  return Buffer.concat([header, body]);
};
const text = (s: string) => Buffer.from(s, 'latin1');

const ANDROID_LOCATION = '+48.8584+002.2945/';
const APPLE_LOCATION = '+37.3349-122.0090+030.000/';
const ftyp = box('ftyp', text('isom'), Buffer.from([0, 0, 2, 0]), text('isommp42'));
const mvhd = box('mvhd', Buffer.alloc(100, 0x11));
const tkhd = box('tkhd', Buffer.alloc(84, 0x22));
const mdia = box('mdia', box('mdhd', Buffer.alloc(24, 0x33)));
const mdatPayload = Buffer.alloc(4000, 0x5a);

/** What a phone writes: location and device in moov/udta, moov/meta, trak/udta and an XMP uuid box. */
function phoneVideo(): Buffer {
  const udta = box('udta', box('\u00a9xyz', Buffer.from([0, 18, 0x15, 0xc7]), text(ANDROID_LOCATION)), box('\u00a9mak', text('ExamplePhone')));
  const meta = box('meta', Buffer.alloc(4), box('hdlr', Buffer.alloc(24)), box('keys', text('com.apple.quicktime.location.ISO6709')), box('ilst', text(APPLE_LOCATION)));
  const trak = box('trak', tkhd, mdia, box('udta', box('\u00a9mod', text('Model X'))));
  const xmp = box('uuid', Buffer.from('be7acfcb97a942e89c71999491e3afac', 'hex'), text(`<x:xmpmeta><exif:GPSLatitude>48,51.5N</exif:GPSLatitude></x:xmpmeta>`));
  return Buffer.concat([ftyp, box('moov', mvhd, udta, meta, trak), xmp, largeBox('mdat', mdatPayload)]);
}

function typesOf(buf: Buffer, start = 0, end = buf.length): string[] {
  const out: string[] = [];
  for (let at = start; at < end; ) {
    let size = buf.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    }
    const type = buf.toString('latin1', at + 4, at + 8);
    out.push(type === 'moov' || type === 'trak' ? `${type}[${typesOf(buf, at + header, at + size).join(',')}]` : type);
    at += size;
  }
  return out;
}

describe('scrubVideoMetadata (in place)', () => {
  const dir = tempDataDir();
  const file = (name: string, bytes: Buffer) => {
    const p = path.join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  it('wipes every metadata box and leaves size, offsets and the playback boxes untouched', async () => {
    const original = phoneVideo();
    const p = file('phone.mp4', original);
    expect(await scrubVideoMetadata(p)).toBe(4); // moov/udta, moov/meta, trak/udta, the XMP uuid
    const after = readFileSync(p);
    expect(after.length).toBe(original.length);
    expect(typesOf(after)).toEqual(['ftyp', 'moov[mvhd,free,free,trak[tkhd,mdia,free]]', 'free', 'mdat']);
    for (const secret of [ANDROID_LOCATION, APPLE_LOCATION, 'com.apple.quicktime.location', 'ExamplePhone', 'Model X', 'GPSLatitude']) {
      expect(after.includes(text(secret)), secret).toBe(false);
    }
    for (const kept of [ftyp, mvhd, tkhd, mdia, mdatPayload]) expect(after.includes(kept)).toBe(true);
    // The media data sits at the same offset, so the sample tables still point at it.
    expect(after.indexOf(mdatPayload)).toBe(original.indexOf(mdatPayload));
  });

  it('a video without metadata is left byte for byte as it was', async () => {
    const clean = Buffer.concat([ftyp, box('moov', mvhd, box('trak', tkhd, mdia)), box('mdat', mdatPayload)]);
    const p = file('clean.mp4', clean);
    expect(await scrubVideoMetadata(p)).toBe(0);
    expect(readFileSync(p).equals(clean)).toBe(true);
  });

  it('a last box with size 0 runs to the end of the file', async () => {
    const open = Buffer.alloc(8);
    open.write('mdat', 4, 'latin1');
    const p = file('open-mdat.mp4', Buffer.concat([ftyp, box('moov', mvhd, box('udta', text(ANDROID_LOCATION))), open, mdatPayload]));
    expect(await scrubVideoMetadata(p)).toBe(1);
    expect(readFileSync(p).includes(text(ANDROID_LOCATION))).toBe(false);
  });

  it('a container whose boxes do not fit together is refused', async () => {
    const truncated = phoneVideo().subarray(0, 600); // mdat claims more than is there
    const trailing = Buffer.concat([ftyp, box('mdat', mdatPayload), Buffer.from([0x50, 0x4b, 0x03])]);
    const tooSmall = Buffer.concat([ftyp, Buffer.from([0, 0, 0, 4]), text('mdat')]);
    const nestedOverflow = Buffer.concat([ftyp, box('moov', Buffer.from([0, 0, 0x10, 0]), text('trak'))]);
    for (const [name, bytes] of Object.entries({ truncated, trailing, tooSmall, nestedOverflow })) {
      await expect(scrubVideoMetadata(file(`${name}.mp4`, bytes)), name).rejects.toBeInstanceOf(DamagedVideoError);
    }
  });
});

describe('POST /api/v1/media with a phone video', () => {
  let t: TestContext;
  let alice: TestUser;
  beforeAll(async () => {
    t = await createTestApp({ env: { DATA_DIR: tempDataDir() } });
    alice = await t.users.create();
  });
  afterAll(() => t.close());

  it('stores and serves the video without its location; size, sha256 and type describe the stored bytes', async () => {
    const original = phoneVideo();
    const res = await upload(t, alice, 'video', original, { filename: 'VID_0001.mp4', contentType: 'video/mp4' });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ url: string; size: number; sha256: string; content_type: string }>();
    const served = (await t.app.inject({ url: body.url })).rawPayload;
    expect(served.includes(text(ANDROID_LOCATION))).toBe(false);
    expect(served.includes(text(APPLE_LOCATION))).toBe(false);
    expect(served.includes(mdatPayload)).toBe(true);
    expect(body).toMatchObject({ content_type: 'video/mp4', size: original.length, sha256: sha256(served) });
    expect(body.sha256).not.toBe(sha256(original));
  });

  it('a truncated video is 422 INVALID_MEDIA, and nothing is stored', async () => {
    const res = await upload(t, alice, 'video', phoneVideo().subarray(0, 600));
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'INVALID_MEDIA', detail: expect.stringMatching(/damaged or truncated/) });
    const list = await t.db.withSystem((tx) => tx.query(sql`select id from media where owner_id = ${alice.id} and size_bytes = 600`));
    expect(list).toHaveLength(0);
  });
});
