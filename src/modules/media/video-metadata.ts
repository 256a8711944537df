// Location and device metadata out of uploaded MP4/MOV files, without a remux (no ffmpeg here).
// Phones write where a clip was filmed into metadata boxes: Android `moov/udta/©xyz`, iOS
// `moov/meta` (keys + ilst, `com.apple.quicktime.location.ISO6709`), some cameras XMP in `uuid`
// boxes; make, model and software sit beside them. None of these boxes is needed for playback, so
// each one is turned into a `free` box (which every player skips) and its payload zeroed, in place:
// sizes and offsets stay the same, so the sample tables pointing into `mdat` stay valid.
// Walking the boxes also proves the container is well-formed: every box must fit in the file.
import { open, type FileHandle } from 'node:fs/promises';

/** Metadata boxes, wiped wherever they appear: at the top level, in `moov` and in each `trak`. */
const METADATA = new Set(['udta', 'meta', 'uuid']);
const MAX_BOXES = 10_000;
const ZEROS = Buffer.alloc(64 * 1024);

export class DamagedVideoError extends Error {
  constructor(detail: string) {
    super(`the video container is damaged or truncated (${detail})`);
  }
}

interface Box {
  type: string;
  start: number;
  headerSize: number;
  end: number;
}

async function readBoxes(fh: FileHandle, start: number, end: number): Promise<Box[]> {
  const boxes: Box[] = [];
  const header = Buffer.alloc(16);
  let at = start;
  while (at < end) {
    if (end - at < 8) throw new DamagedVideoError(`${end - at} stray bytes at offset ${at}`);
    const { bytesRead } = await fh.read(header, 0, Math.min(16, end - at), at);
    let size = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    let headerSize = 8;
    if (size === 1) {
      if (bytesRead < 16) throw new DamagedVideoError(`short 64-bit header at offset ${at}`);
      const large = header.readBigUInt64BE(8);
      if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw new DamagedVideoError(`box size out of range at offset ${at}`);
      size = Number(large);
      headerSize = 16;
    } else if (size === 0) {
      size = end - at; // "extends to the end of its container"
    }
    if (size < headerSize || at + size > end) throw new DamagedVideoError(`box '${printable(type)}' at offset ${at} does not fit`);
    boxes.push({ type, start: at, headerSize, end: at + size });
    if (boxes.length > MAX_BOXES) throw new DamagedVideoError('too many boxes');
    at += size;
  }
  return boxes;
}

const printable = (type: string) => type.replace(/[^\x20-\x7e]/g, '?');

async function wipe(fh: FileHandle, box: Box): Promise<void> {
  await fh.write(Buffer.from('free', 'latin1'), 0, 4, box.start + 4);
  for (let at = box.start + box.headerSize; at < box.end; at += ZEROS.length) {
    await fh.write(ZEROS, 0, Math.min(ZEROS.length, box.end - at), at);
  }
}

/**
 * Wipes the metadata boxes of the MP4/MOV at `file` in place and returns how many it wiped (0: the
 * file is unchanged). Throws DamagedVideoError when the box structure does not hold together.
 */
export async function scrubVideoMetadata(file: string): Promise<number> {
  const fh = await open(file, 'r+');
  try {
    const { size } = await fh.stat();
    let wiped = 0;
    const scrub = async (boxes: Box[], descendInto: ReadonlySet<string>) => {
      for (const box of boxes) {
        if (METADATA.has(box.type)) {
          await wipe(fh, box);
          wiped++;
        } else if (descendInto.has(box.type)) {
          await scrub(await readBoxes(fh, box.start + box.headerSize, box.end), box.type === 'moov' ? new Set(['trak']) : new Set());
        }
      }
    };
    await scrub(await readBoxes(fh, 0, size), new Set(['moov']));
    return wiped;
  } finally {
    await fh.close();
  }
}
