// The upload attack corpus (SPEC §5.1 Uploads). Each input is refused with the right status, or —
// where re-encoding is the defence — accepted and neutralised. Fixtures are generated here.
import http from 'node:http';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { handmadePng, jpeg, mp4, multipart, pngBomb, sha256, tempDataDir, textChunk, upload, uploadParts } from './helpers.js';

let t: TestContext;
let alice: TestUser;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir();
  t = await createTestApp({ env: { DATA_DIR: dataDir } });
  alice = await t.users.create();
});
afterAll(() => t.close());

const storedBytes = async (url: string) => (await t.app.inject({ url })).rawPayload;

/** Every file under DATA_DIR, relative. */
function tree(dir = dataDir, base = dataDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? tree(full, base) : [path.relative(base, full)];
  });
}

function expectProblem(res: { statusCode: number; json(): { code: string } }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.json().code).toBe(code);
}

describe('refused by content (415): the name and the client Content-Type count for nothing', () => {
  it('SVG with <script>', async () => {
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>');
    expectProblem(await upload(t, alice, 'photo', svg, { filename: 'x.svg', contentType: 'image/svg+xml' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await upload(t, alice, 'avatar', svg, { filename: 'x.jpg', contentType: 'image/jpeg' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('an HTML file named .jpg and sent as image/jpeg', async () => {
    const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
    expectProblem(await upload(t, alice, 'photo', html, { filename: 'cat.jpg', contentType: 'image/jpeg' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('a "video" that is really a ZIP, and other kind/content mismatches', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(2000, 1)]);
    expectProblem(await upload(t, alice, 'video', zip, { filename: 'clip.mp4', contentType: 'video/mp4' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await upload(t, alice, 'video', await jpeg(), { filename: 'clip.mp4' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await upload(t, alice, 'photo', mp4(4000), { filename: 'x.jpg' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    // An ftyp box with an unknown brand, and one whose size field is nonsense.
    const odd = mp4(4000, 'zzzz');
    expectProblem(await upload(t, alice, 'video', odd), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const broken = mp4(4000);
    broken.writeUInt32BE(7, 0);
    expectProblem(await upload(t, alice, 'video', broken), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('GIF, HEIC, and a PDF', async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).gif().toBuffer();
    expectProblem(await upload(t, alice, 'photo', gif), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const heic = mp4(4000, 'heic');
    const res = await upload(t, alice, 'photo', heic, { filename: 'IMG_0001.HEIC', contentType: 'image/heic' });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(res.json().detail).toMatch(/HEIC/);
    expectProblem(await upload(t, alice, 'photo', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj')), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('neutralised by re-encoding', () => {
  it('a JPEG/HTML polyglot (HTML in a comment segment and after the end marker) is stored without it', async () => {
    const base = await jpeg(50, 50);
    const payload = '<html><body><script>alert("polyglot")</script></body></html>';
    // COM segment right after SOI, and the same payload appended after EOI.
    const comment = Buffer.alloc(4);
    comment.writeUInt16BE(0xfffe, 0);
    comment.writeUInt16BE(payload.length + 2, 2);
    const polyglot = Buffer.concat([base.subarray(0, 2), comment, Buffer.from(payload), base.subarray(2), Buffer.from(payload)]);
    expect(polyglot.includes('<script')).toBe(true);
    const res = await upload(t, alice, 'photo', polyglot);
    expect(res.statusCode).toBe(201);
    const bytes = await storedBytes(res.json().url);
    expect(sha256(bytes)).toBe(res.json().sha256);
    expect(bytes.includes('<html')).toBe(false);
    expect(bytes.includes('<script')).toBe(false);
    expect(bytes.includes('polyglot')).toBe(false);
  });

  it('a PNG carrying a PHP payload in a tEXt chunk comes back without it', async () => {
    const pixels = zlib.deflateSync(Buffer.alloc(8 * (8 + 1), 0x80).map((b, i) => (i % 9 === 0 ? 0 : b)));
    const evil = handmadePng(8, 8, pixels, [textChunk('Comment', '<?php system($_GET["cmd"]); ?>')]);
    expect(evil.includes('<?php')).toBe(true);
    const res = await upload(t, alice, 'photo', evil, { filename: 'shell.php.png', contentType: 'image/png' });
    expect(res.statusCode).toBe(201);
    const bytes = await storedBytes(res.json().url);
    expect(bytes.includes('<?php')).toBe(false);
    expect(bytes.includes('system(')).toBe(false);
  });

  it('a path-traversal file name is ignored: the key is generated and nothing lands outside the media directory', async () => {
    const before = new Set(tree());
    const res = await upload(t, alice, 'photo', await jpeg(), { filename: '../../../../etc/passwd' });
    expect(res.statusCode).toBe(201);
    const { id } = res.json();
    const added = tree().filter((f) => !before.has(f));
    expect(added).toEqual([path.join('media', alice.id, `${id}.jpg`)]);
    const odd = await upload(t, alice, 'photo', await jpeg(), { filename: '..\\..\\windows\\win.ini\0.jpg' });
    expect(odd.statusCode).toBe(201);
    expect(tree().filter((f) => !before.has(f)).every((f) => f.startsWith(`media${path.sep}${alice.id}${path.sep}`))).toBe(true);
  });
});

describe('broken or hostile files', () => {
  it('a zero-byte file is 400', async () => {
    expectProblem(await upload(t, alice, 'photo', Buffer.alloc(0)), 400, 'MALFORMED_REQUEST');
  });

  it('a truncated JPEG is 422 INVALID_MEDIA', async () => {
    const whole = await jpeg(400, 300);
    expectProblem(await upload(t, alice, 'photo', whole.subarray(0, Math.floor(whole.length / 2))), 422, 'INVALID_MEDIA');
    expectProblem(await upload(t, alice, 'photo', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])), 422, 'INVALID_MEDIA');
  });

  it('pixel floods are 413 at once, without decoding: a 30000×30000 header and a real 10000×10000 zlib bomb', async () => {
    const rssBefore = process.memoryUsage().rss;
    const headerOnly = handmadePng(30000, 30000, zlib.deflateSync(Buffer.alloc(64)));
    let started = performance.now();
    const flood = await upload(t, alice, 'photo', headerOnly, { filename: 'bomb.png' });
    expectProblem(flood, 413, 'PAYLOAD_TOO_LARGE');
    expect(flood.json().detail).toMatch(/30000×30000/);
    expect(performance.now() - started).toBeLessThan(2000);

    const bomb = await pngBomb(10000, 10000); // ~100 KB that inflates to 100 MB
    expect(bomb.length).toBeLessThan(1_000_000);
    started = performance.now();
    expectProblem(await upload(t, alice, 'avatar', bomb, { filename: 'bomb.png' }), 413, 'PAYLOAD_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('over the kind limit is 413 (avatar 5 MiB, photo 10 MiB)', async () => {
    const big = Buffer.concat([await jpeg(), Buffer.alloc(5 * 1024 * 1024)]);
    const res = await upload(t, alice, 'avatar', big);
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(res.json().detail).toMatch(/avatar may be at most 5 MiB/);
    // the same file is within the photo limit
    expect((await upload(t, alice, 'photo', big)).statusCode).toBe(201);
  });

  it('the limit is enforced while streaming: 413 arrives before the client has finished sending', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const head = multipart([{ name: 'kind', value: 'avatar' }, { name: 'file', data: Buffer.alloc(0) }]);
    // Everything up to the (empty) file content, then 6 MiB of file — and the body never ends.
    const prefix = head.payload.subarray(0, head.payload.indexOf('\r\n\r\n', head.payload.indexOf('name="file"')) + 4);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ port, method: 'POST', path: '/api/v1/media', headers: { ...alice.auth, ...head.headers } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      req.write(prefix);
      req.write(Buffer.alloc(6 * 1024 * 1024, 1));
      setTimeout(() => reject(new Error('no answer while the body was still open')), 10_000).unref();
    });
    expect(status).toBe(413);
  });
});

describe('malformed multipart (400) and a bad kind (422)', () => {
  it('two `file` parts', async () => {
    const data = await jpeg();
    const res = await uploadParts(t, alice, [{ name: 'kind', value: 'photo' }, { name: 'file', data }, { name: 'file', data }]);
    expectProblem(res, 400, 'MALFORMED_REQUEST');
  });

  it('a missing `kind`, a missing `file`, an unknown kind, an unknown field, two kinds', async () => {
    const data = await jpeg();
    expectProblem(await upload(t, alice, undefined, data), 400, 'MALFORMED_REQUEST');
    expectProblem(await uploadParts(t, alice, [{ name: 'kind', value: 'photo' }]), 400, 'MALFORMED_REQUEST');
    expectProblem(await upload(t, alice, 'document', data), 422, 'VALIDATION_FAILED');
    expectProblem(await uploadParts(t, alice, [{ name: 'kind', value: 'photo' }, { name: 'owner_id', value: 'x' }, { name: 'file', data }]), 400, 'MALFORMED_REQUEST');
    expectProblem(await uploadParts(t, alice, [{ name: 'kind', value: 'photo' }, { name: 'kind', value: 'video' }, { name: 'file', data }]), 400, 'MALFORMED_REQUEST');
    expectProblem(await uploadParts(t, alice, [{ name: 'kind', value: 'photo' }, { name: 'upload', data }]), 400, 'MALFORMED_REQUEST');
  });

  it('a body cut off before its closing boundary, and no boundary at all', async () => {
    const body = multipart([{ name: 'kind', value: 'photo' }, { name: 'file', data: await jpeg() }]);
    const cut = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { ...alice.auth, ...body.headers }, payload: body.payload.subarray(0, body.payload.length - 30) });
    expectProblem(cut, 400, 'MALFORMED_REQUEST');
    const noBoundary = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { ...alice.auth, 'content-type': 'multipart/form-data' }, payload: body.payload });
    expectProblem(noBoundary, 400, 'MALFORMED_REQUEST');
  });

  it('refused uploads leave no row, no object and no temp file', async () => {
    const rows = async () => (await t.db.withSystem((tx) => tx.one<{ n: number }>(sql`select count(*)::int as n from media`)))!.n;
    const [rowsBefore, filesBefore] = [await rows(), tree().length];
    const refused = await Promise.all([
      upload(t, alice, 'photo', Buffer.from('<html></html>')),
      upload(t, alice, 'avatar', Buffer.concat([await jpeg(), Buffer.alloc(6 * 1024 * 1024)])),
      upload(t, alice, 'photo', handmadePng(30000, 30000, zlib.deflateSync(Buffer.alloc(64)))),
      upload(t, alice, 'document', await jpeg()),
    ]);
    expect(refused.map((r) => r.statusCode)).toEqual([415, 413, 413, 422]);
    expect(await rows()).toBe(rowsBefore);
    expect(tree().length).toBe(filesBefore);
    expect(readdirSync(path.join(dataDir, 'tmp', 'uploads'))).toEqual([]);
    expect(readdirSync(path.join(dataDir, 'media', '.tmp'))).toEqual([]);
  });
});
