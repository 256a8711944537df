// The type of an upload is decided by its first bytes (magic numbers), never by its file name or
// the Content-Type the client sent. Only what we can safely handle is recognised:
//   images  JPEG, PNG, WebP  (decoded and re-encoded afterwards, images.ts)
//   videos  MP4 / QuickTime: an ISO-BMFF `ftyp` box first, with a known video brand
// HEIC is recognised only to say clearly that it is not supported (the prebuilt libvips that sharp
// ships cannot decode HEVC images), and everything else is 415.

export type Detected =
  | { family: 'image'; format: 'jpeg' | 'png' | 'webp' }
  | { family: 'video'; format: 'mp4' | 'mov'; contentType: 'video/mp4' | 'video/quicktime' }
  | { family: 'heic' }
  | { family: 'unknown' };

/** Bytes of the head an upload must keep for sniff(). */
export const SNIFF_BYTES = 512;

const ascii = (buf: Buffer, start: number, end: number) => buf.toString('latin1', start, end);

// Major brands of MP4 and QuickTime files as phones and common encoders write them.
const MP4_BRANDS = new Set(['isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'mp41', 'mp42', 'mp71', 'avc1', 'M4V ', 'M4VH', 'M4VP', 'MSNV', 'XAVC', 'dash', 'NDAS']);
const MOV_BRANDS = new Set(['qt  ']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

function ftypBrand(head: Buffer): string | null {
  if (head.length < 16 || ascii(head, 4, 8) !== 'ftyp') return null;
  const size = head.readUInt32BE(0);
  // A real ftyp box: major brand + minor version + whole compatible brands, and not absurdly long.
  if (size < 16 || size > 4096 || (size - 16) % 4 !== 0) return null;
  return ascii(head, 8, 12);
}

export function sniff(head: Buffer): Detected {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { family: 'image', format: 'jpeg' };
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return { family: 'image', format: 'png' };
  }
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { family: 'image', format: 'webp' };
  const brand = ftypBrand(head);
  if (brand !== null) {
    if (MP4_BRANDS.has(brand)) return { family: 'video', format: 'mp4', contentType: 'video/mp4' };
    if (MOV_BRANDS.has(brand)) return { family: 'video', format: 'mov', contentType: 'video/quicktime' };
    if (HEIF_BRANDS.has(brand)) return { family: 'heic' };
  }
  return { family: 'unknown' };
}
