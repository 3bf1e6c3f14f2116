// Seeded randomness: every test model and input is the same on every run.

// mulberry32: a tiny, well-mixed 32-bit generator; returns floats in [0, 1).
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// `count` floats uniform in [-scale, scale).
export function randomFloats(count: number, seed: number, scale = 1): Float32Array {
  const next = seededRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; ++i) out[i] = (next() * 2 - 1) * scale;
  return out;
}

export function randomBytes(count: number, seed: number): Uint8Array {
  const next = seededRandom(seed);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; ++i) out[i] = Math.floor(next() * 256);
  return out;
}
