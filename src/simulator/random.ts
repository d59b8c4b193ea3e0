/**
 * Randomness for job timelines and ids, optionally seeded so benchmark runs are repeatable.
 */
import { randomBytes } from 'node:crypto';

export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  bytes(n: number): Uint8Array;
}

/** mulberry32: tiny, fast and good enough for simulated jitter (not for secrets). */
function seeded(seed: string | number): RandomSource {
  let state = hashSeed(String(seed));
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

function hashSeed(text: string): number {
  // FNV-1a, so string seeds like "bench-1" work as well as numbers.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function createRandom(seed?: string | number): RandomSource {
  if (seed !== undefined) return seeded(seed);
  return {
    next: () => randomBytes(4).readUInt32BE(0) / 4294967296,
    bytes: (n) => new Uint8Array(randomBytes(n)),
  };
}

export function uuidV4(random: RandomSource): string {
  const b = random.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const NANOID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A 21-character id in the `[A-Za-z0-9_-]{21}` format the newer Veo pages show. */
export function nanoid(random: RandomSource): string {
  // 64 symbols, so masking a byte to 6 bits is unbiased.
  return Array.from(random.bytes(21), (byte) => NANOID_ALPHABET[byte & 63]).join('');
}
