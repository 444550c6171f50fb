/** Deterministic ternary codes (−1, 0, +1) for the transcoders' tests: xorshift32 from `seed`. */
export function codesFor(n: number, seed: number): Int8Array {
  let s = seed >>> 0 || 1;
  return Int8Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 3) - 1;
  });
}
