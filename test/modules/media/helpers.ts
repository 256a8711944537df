// Media test helpers: multipart bodies built by hand (so tests control part order, duplicates and
// file names), fixtures generated with sharp, and an MP4-shaped file (a real `ftyp` box + filler).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { TestContext, TestUser } from '../../helpers/app.js';

export type Part = { name: string; value: string } | { name: string; filename?: string; contentType?: string; data: Buffer };

export function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----darezone${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename ?? 'upload.bin'}"\r\n` +
            `Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        ),
        part.data,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export function upload(t: TestContext, user: TestUser, kind: string | undefined, data: Buffer, opts: { filename?: string; contentType?: string } = {}) {
  const parts: Part[] = [];
  if (kind !== undefined) parts.push({ name: 'kind', value: kind });
  parts.push({ name: 'file', data, filename: opts.filename ?? 'photo.jpg', contentType: opts.contentType ?? 'image/jpeg' });
  const body = multipart(parts);
  return t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { ...user.auth, ...body.headers }, payload: body.payload });
}

export function uploadParts(t: TestContext, user: TestUser, parts: Part[]) {
  const body = multipart(parts);
  return t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { ...user.auth, ...body.headers }, payload: body.payload });
}

export const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

export function tempDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'darezone-media-'));
}

/** A noisy (so not trivially compressible) JPEG. */
export function jpeg(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 90 }).toBuffer();
}

export function png(width = 32, height = 32, alpha = false): Promise<Buffer> {
  return sharp({ create: { width, height, channels: alpha ? 4 : 3, background: { r: 10, g: 200, b: 30, alpha: alpha ? 0.5 : 1 } } }).png().toBuffer();
}

export function webp(width = 40, height = 30): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#3366cc' } }).webp().toBuffer();
}

/** An ISO-BMFF file as a phone writes it: `ftyp` (brand isom/mp42), then filler standing in for mdat. */
export function mp4(totalBytes: number, brand = 'isom'): Buffer {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftyp', 4, 'latin1');
  ftyp.write(brand, 8, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isom', 16, 'latin1');
  ftyp.write('mp42', 20, 'latin1');
  const mdatHeader = Buffer.alloc(8);
  mdatHeader.writeUInt32BE(Math.max(8, totalBytes - 24), 0);
  mdatHeader.write('mdat', 4, 'latin1');
  const filler = Buffer.alloc(Math.max(0, totalBytes - 32), 0x5a);
  return Buffer.concat([ftyp, mdatHeader, filler]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A PNG built by hand: any dimensions, any IDAT, extra chunks (payload carriers). */
export function handmadePng(width: number, height: number, idat: Buffer, extra: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    ...extra,
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export function textChunk(keyword: string, text: string): Buffer {
  return pngChunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]));
}

/**
 * A real decompression bomb: `width`×`height` greyscale pixels of zeros, deflated (about 1000:1),
 * so a few hundred KB expand to width×height bytes if anything decodes them.
 */
export async function pngBomb(width: number, height: number): Promise<Buffer> {
  const deflate = zlib.createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const rowsPerChunk = Math.max(1, Math.floor(4_000_000 / (width + 1)));
  const block = Buffer.alloc(rowsPerChunk * (width + 1));
  for (let row = 0; row < height; row += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, height - row);
    deflate.write(rows === rowsPerChunk ? block : block.subarray(0, rows * (width + 1)));
  }
  deflate.end();
  await done;
  return handmadePng(width, height, Buffer.concat(out));
}
