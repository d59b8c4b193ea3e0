/**
 * The MP4 header reader on the simulator's sample (a real clip: 640x360, 24 fps, 4 s, moov before
 * mdat), fed whole and in awkward pieces, with its moov moved after the media data (a file not
 * prepared for streaming), and on bytes that are not an MP4.
 */
import { randomBytes } from 'node:crypto';
import { Mp4HeaderReader, mp4Facts } from '../../../src/media/mp4-header';
import { sampleVideo } from '../../../src/simulator/video';

const SAMPLE_FACTS = { durationSeconds: 4, width: 640, height: 360, frameRate: 24 };

/** The file's top-level boxes, in order. */
function topLevel(file: Buffer): { type: string; bytes: Buffer }[] {
  const out: { type: string; bytes: Buffer }[] = [];
  for (let offset = 0; offset < file.length;) {
    const size = file.readUInt32BE(offset);
    out.push({ type: file.toString('latin1', offset + 4, offset + 8), bytes: file.subarray(offset, offset + size) });
    offset += size;
  }
  return out;
}

function fedInPieces(file: Buffer, pieceBytes: number): ReturnType<Mp4HeaderReader['facts']> {
  const reader = new Mp4HeaderReader();
  for (let i = 0; i < file.length; i += pieceBytes) reader.push(file.subarray(i, i + pieceBytes));
  return reader.facts();
}

describe('Mp4HeaderReader', () => {
  it('reads duration, size and frame rate from the sample clip', () => {
    expect(mp4Facts(sampleVideo())).toEqual(SAMPLE_FACTS);
  });

  it.each([1, 3, 7, 4096, 65_536])('reads the same fed in pieces of %i bytes', (pieceBytes) => {
    expect(fedInPieces(sampleVideo(), pieceBytes)).toEqual(SAMPLE_FACTS);
  });

  it('finds a moov that comes after the media data, skipping mdat unread', () => {
    const boxes = topLevel(sampleVideo());
    expect(boxes.map((b) => b.type)).toEqual(['ftyp', 'moov', 'free', 'mdat']);
    const moovLast = Buffer.concat([...boxes.filter((b) => b.type !== 'moov').map((b) => b.bytes), boxes.find((b) => b.type === 'moov')!.bytes]);
    expect(fedInPieces(moovLast, 1000)).toEqual(SAMPLE_FACTS);
  });

  it('says nothing (null) for bytes that are not an MP4, or a file cut inside its moov', () => {
    expect(mp4Facts(randomBytes(100_000))).toBeNull();
    expect(mp4Facts(Buffer.from('<html>sign in</html>'))).toBeNull();
    expect(mp4Facts(sampleVideo().subarray(0, 1000))).toBeNull();
  });
});
