// Every image is decoded and re-encoded with sharp (libvips). That one step is the defence against
// most image attacks: only pixels survive, so EXIF/GPS/XMP/IPTC/ICC metadata, comments, trailing
// HTML or script of a polyglot, and payloads hidden in PNG chunks are all gone. Orientation is
// applied to the pixels first (the EXIF tag that said how to rotate goes with the metadata).
// Output: JPEG, or WebP when the image has an alpha channel (JPEG cannot carry transparency).
// Avatars become a fixed 512×512 square (cover crop).
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../../errors.js';

// No libvips operation cache: it would keep decoded images (and open temp files) between uploads.
sharp.cache(false);

export const AVATAR_SIZE = 512;
const JPEG_QUALITY = 85;
const WEBP_QUALITY = 85;

export interface EncodedImage {
  contentType: 'image/jpeg' | 'image/webp';
  ext: 'jpg' | 'webp';
  width: number;
  height: number;
}

// Decoding a 40 MP image takes ~120 MB inside libvips; two at a time on a 2-core machine keeps a
// burst of large uploads from multiplying that. Others queue (the upload is already on disk).
const MAX_PARALLEL = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const unreadable = (detail: string) => new AppError('INVALID_MEDIA', detail, { errors: [{ path: 'file', message: detail }] });

export async function reencodeImage(
  input: string,
  output: string,
  opts: { expected: 'jpeg' | 'png' | 'webp'; avatar: boolean; maxPixels: number },
): Promise<EncodedImage> {
  // The header alone (no pixel decoding) says how big the image claims to be: a pixel flood
  // (a few KB declaring 30000×30000) is refused here, before libvips allocates anything.
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch {
    throw unreadable('the file could not be read as an image');
  }
  if (meta.format !== opts.expected || !meta.width || !meta.height) throw unreadable('the file could not be read as an image');
  const pixels = meta.width * meta.height;
  if (pixels > opts.maxPixels) {
    throw new AppError('PAYLOAD_TOO_LARGE', `image is ${meta.width}×${meta.height} (${(pixels / 1e6).toFixed(1)} MP); at most ${(opts.maxPixels / 1e6).toFixed(0)} MP`);
  }
  const alpha = meta.hasAlpha === true;
  return withSlot(async () => {
    try {
      // limitInputPixels again as a second guard (it covers every page/frame libvips would load);
      // failOn 'truncated' refuses cut-off files but tolerates the minor warnings phone cameras cause.
      let pipeline = sharp(input, { limitInputPixels: opts.maxPixels, failOn: 'truncated', sequentialRead: true }).autoOrient();
      if (opts.avatar) pipeline = pipeline.resize(AVATAR_SIZE, AVATAR_SIZE, { fit: 'cover', position: 'centre' });
      pipeline = alpha ? pipeline.webp({ quality: WEBP_QUALITY }) : pipeline.jpeg({ quality: JPEG_QUALITY });
      const info = await pipeline.toFile(output);
      return alpha
        ? { contentType: 'image/webp', ext: 'webp', width: info.width, height: info.height }
        : { contentType: 'image/jpeg', ext: 'jpg', width: info.width, height: info.height };
    } catch (err) {
      if (err instanceof Error && /pixel limit/i.test(err.message)) throw new AppError('PAYLOAD_TOO_LARGE', 'image has too many pixels');
      throw unreadable('the image could not be decoded (truncated or corrupt)');
    }
  });
}
