/**
 * Facts about an MP4 file read from its header (the `moov` box: `mvhd`, each track's `tkhd`,
 * `mdhd`, `hdlr` and `stts`), as the bytes stream past: no decoder, and only the `moov` box is ever
 * held (up to a cap), wherever it sits in the file; `mdat` and other boxes are skipped unread.
 */

export interface Mp4Facts {
  /** The movie's duration, in seconds. */
  durationSeconds: number;
  /** The first video track's display size, in pixels. */
  width: number;
  height: number;
  /** The first video track's frames per second (samples over its media duration). */
  frameRate: number;
}

/** A `moov` larger than this is not read (a real one is kilobytes to a few megabytes). */
const MAX_MOOV_BYTES = 16 * 1024 * 1024;

/** Feed it every chunk of a file in order; `facts()` then says what its header holds, or null. */
export class Mp4HeaderReader {
  /** Bytes of the current box header being gathered. */
  private header = Buffer.alloc(0);
  /** Bytes of the current box still to skip (non-moov) or gather (moov). */
  private remaining = 0;
  private moovParts: Buffer[] | null = null;
  private moov: Buffer | null = null;
  private broken = false;

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.broken && this.moov === null) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - offset);
        this.moovParts?.push(chunk.subarray(offset, offset + n));
        this.remaining -= n;
        offset += n;
        if (this.remaining === 0 && this.moovParts) {
          this.moov = Buffer.concat(this.moovParts);
          this.moovParts = null;
        }
        continue;
      }
      const need = this.header.length >= 8 && this.header.readUInt32BE(0) === 1 ? 16 : 8;
      const take = Math.min(need - this.header.length, chunk.length - offset);
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.header.length < need) continue;
      if (need === 8 && this.header.readUInt32BE(0) === 1) continue; // a 64-bit size follows
      const size = need === 16 ? Number(this.header.readBigUInt64BE(8)) : this.header.readUInt32BE(0);
      const type = this.header.toString('latin1', 4, 8);
      // Size 0 ("to the end of the file") is only ever mdat, last; nothing after it matters.
      if (size === 0 || size < need) {
        this.broken = true;
        break;
      }
      this.header = Buffer.alloc(0);
      this.remaining = size - need;
      if (type === 'moov') {
        if (this.remaining > MAX_MOOV_BYTES) {
          this.broken = true;
          break;
        }
        this.moovParts = [];
        if (this.remaining === 0) this.broken = true;
      }
    }
  }

  facts(): Mp4Facts | null {
    return this.moov ? parseMoov(this.moov) : null;
  }
}

/** The facts of a whole file at once. */
export function mp4Facts(file: Buffer): Mp4Facts | null {
  const reader = new Mp4HeaderReader();
  reader.push(file);
  return reader.facts();
}

interface Box {
  type: string;
  body: Buffer;
}

function* boxes(data: Buffer): Generator<Box> {
  let offset = 0;
  while (offset + 8 <= data.length) {
    let size = data.readUInt32BE(offset);
    let headerSize = 8;
    if (size === 1) {
      if (offset + 16 > data.length) return;
      size = Number(data.readBigUInt64BE(offset + 8));
      headerSize = 16;
    } else if (size === 0) size = data.length - offset;
    if (size < headerSize || offset + size > data.length) return;
    yield { type: data.toString('latin1', offset + 4, offset + 8), body: data.subarray(offset + headerSize, offset + size) };
    offset += size;
  }
}

function child(data: Buffer, type: string): Buffer | null {
  for (const box of boxes(data)) if (box.type === type) return box.body;
  return null;
}

/** Version 0 boxes carry 32-bit times, version 1 64-bit: [timescale, duration]. */
function timescaleAndDuration(fullBox: Buffer): [number, number] | null {
  const version = fullBox[0];
  if (version === 1 && fullBox.length >= 32) return [fullBox.readUInt32BE(20), Number(fullBox.readBigUInt64BE(24))];
  if (version === 0 && fullBox.length >= 20) return [fullBox.readUInt32BE(12), fullBox.readUInt32BE(16)];
  return null;
}

function parseMoov(moov: Buffer): Mp4Facts | null {
  const mvhd = child(moov, 'mvhd');
  const movie = mvhd ? timescaleAndDuration(mvhd) : null;
  if (!movie || movie[0] === 0) return null;
  for (const trak of boxes(moov)) {
    if (trak.type !== 'trak') continue;
    const mdia = child(trak.body, 'mdia');
    const hdlr = mdia && child(mdia, 'hdlr');
    if (!mdia || !hdlr || hdlr.length < 12 || hdlr.toString('latin1', 8, 12) !== 'vide') continue;
    const tkhd = child(trak.body, 'tkhd');
    const mdhd = child(mdia, 'mdhd');
    const stts = child(child(child(mdia, 'minf') ?? Buffer.alloc(0), 'stbl') ?? Buffer.alloc(0), 'stts');
    const media = mdhd ? timescaleAndDuration(mdhd) : null;
    if (!tkhd || tkhd.length < 8 || !media || media[0] === 0 || media[1] === 0 || !stts || stts.length < 8) return null;
    // Width and height are the tkhd's last two fields, 16.16 fixed point, in either version.
    const width = tkhd.readUInt32BE(tkhd.length - 8) / 65536;
    const height = tkhd.readUInt32BE(tkhd.length - 4) / 65536;
    const entries = stts.readUInt32BE(4);
    let samples = 0;
    for (let i = 0; i < entries && 8 + i * 8 + 8 <= stts.length; i += 1) samples += stts.readUInt32BE(8 + i * 8);
    return {
      durationSeconds: round(movie[1] / movie[0], 3),
      width: Math.round(width),
      height: Math.round(height),
      frameRate: round(samples / (media[1] / media[0]), 3),
    };
  }
  return null;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
