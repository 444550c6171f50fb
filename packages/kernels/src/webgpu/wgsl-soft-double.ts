/**
 * A software float64 in WGSL, for the BitLinear epilogue: the reference computes `y += dot · wScale · xScale` in JS
 * numbers (float64) and rounds to float32 once on store (js/bit-linear.ts), and WGSL has no f64.
 *
 * `SD` is a 53-bit integer mantissa m (vec2<u32>: lo, hi) and the exponent of its lsb: value = ±m·2^e, with
 * 2^52 ≤ m < 2^53, or m = 0 for zero (always +0, as the reference's `0 + …` sums are). Multiply and add are exact
 * integer operations on a 128-bit scratch integer (vec4<u32>, .x least significant) followed by ONE round-half-even
 * to 53 bits — the IEEE 754 result. Finite values only. Needs EXACT_FLOAT_WGSL (u64 helpers, the float32 rounding).
 * Straight-line vector code with few call sites: SwiftShader's compile time grows fast with inlined copies.
 */
export const SOFT_DOUBLE_WGSL = /* wgsl */ `
fn u128_shr(a: vec4<u32>, k: u32) -> vec4<u32> {
  if (k >= 128u) { return vec4<u32>(0u); }
  let q = k >> 5u;
  let r = k & 31u;
  var w = a;
  if (q == 1u) { w = vec4<u32>(a.yzw, 0u); } else if (q == 2u) { w = vec4<u32>(a.zw, 0u, 0u); } else if (q == 3u) { w = vec4<u32>(a.w, 0u, 0u, 0u); }
  if (r == 0u) { return w; }
  return (w >> vec4<u32>(r)) | (vec4<u32>(w.yzw, 0u) << vec4<u32>(32u - r));
}

fn u128_shl(a: vec4<u32>, k: u32) -> vec4<u32> {
  if (k >= 128u) { return vec4<u32>(0u); }
  let q = k >> 5u;
  let r = k & 31u;
  var w = a;
  if (q == 1u) { w = vec4<u32>(0u, a.xyz); } else if (q == 2u) { w = vec4<u32>(0u, 0u, a.xy); } else if (q == 3u) { w = vec4<u32>(0u, 0u, 0u, a.x); }
  if (r == 0u) { return w; }
  return (w << vec4<u32>(r)) | (vec4<u32>(0u, w.xyz) >> vec4<u32>(32u - r));
}

fn u128_add(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
  let s = a + b;
  let c = select(vec4<u32>(0u), vec4<u32>(1u), s < a); // carry out of each word
  let x = s.x;
  let y = s.y + c.x;
  let cy = c.y + select(0u, 1u, y < s.y);
  let z = s.z + cy;
  let cz = c.z + select(0u, 1u, z < s.z);
  return vec4<u32>(x, y, z, s.w + cz);
}

// a - b for a >= b
fn u128_sub(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
  let d = a - b;
  let br = select(vec4<u32>(0u), vec4<u32>(1u), a < b); // borrow out of each word
  let y = d.y - br.x;
  let by = br.y + select(0u, 1u, d.y < br.x);
  let z = d.z - by;
  let bz = br.z + select(0u, 1u, d.z < by);
  return vec4<u32>(d.x, y, z, d.w - bz);
}

fn u128_lt(a: vec4<u32>, b: vec4<u32>) -> bool {
  if (a.w != b.w) { return a.w < b.w; }
  if (a.z != b.z) { return a.z < b.z; }
  if (a.y != b.y) { return a.y < b.y; }
  return a.x < b.x;
}

fn u128_msb(a: vec4<u32>) -> i32 {
  if (a.w != 0u) { return 96 + i32(firstLeadingBit(a.w)); }
  if (a.z != 0u) { return 64 + i32(firstLeadingBit(a.z)); }
  return u64_msb(a.xy);
}

// bit k (k < 128), and whether any bit below k is set
fn u128_bit(a: vec4<u32>, k: u32) -> u32 {
  return (a[k >> 5u] >> (k & 31u)) & 1u;
}

fn u128_low_nonzero(a: vec4<u32>, k: u32) -> bool {
  let q = k >> 5u;
  var m = select(vec4<u32>(0u), vec4<u32>(0xffffffffu), vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(q));
  if (q < 4u && (k & 31u) != 0u) { m[q] = (1u << (k & 31u)) - 1u; }
  return any((a & m) != vec4<u32>(0u));
}

// full 32 x 32 -> 64-bit product as (lo, hi)
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

struct SD { neg: u32, e: i32, m: vec2<u32> }

fn sd_zero() -> SD { return SD(0u, 0, vec2<u32>(0u)); }

// (-1)^neg · a·2^e, a < 2^128, rounded half-even to 53 bits
fn sd_round(neg: u32, a: vec4<u32>, e: i32) -> SD {
  let p = u128_msb(a);
  if (p < 0) { return sd_zero(); }
  if (p <= 52) { return SD(neg, e - (52 - p), u128_shl(a, u32(52 - p)).xy); }
  let k = u32(p - 52);
  var m = u128_shr(a, k).xy;
  var ee = e + i32(k);
  if (u128_bit(a, k - 1u) == 1u && (u128_low_nonzero(a, k - 1u) || (m.x & 1u) == 1u)) {
    m = vec2<u32>(m.x + 1u, m.y + select(0u, 1u, m.x == 0xffffffffu));
    if (m.y >= 0x200000u) { m = u64_shr(m, 1u); ee = ee + 1; }
  }
  return SD(neg, ee, m);
}

// an exact value (-1)^neg · v·2^e with v < 2^32: normalised, no rounding
fn sd_exact(neg: u32, v: u32, e: i32) -> SD {
  if (v == 0u) { return sd_zero(); }
  let s = 52u - firstLeadingBit(v);
  return SD(neg, e - i32(s), u64_shl(vec2<u32>(v, 0u), s));
}

fn sd_from_i32(d: i32) -> SD {
  return sd_exact(select(0u, 1u, d < 0), select(u32(d), 0u - u32(d), d < 0), 0);
}

fn sd_from_f32_bits(b: u32) -> SD {
  let parts = f32_parts(b);
  return sd_exact(b >> 31u, u32(parts.x), parts.y);
}

fn sd_mul(a: SD, b: SD) -> SD {
  if ((a.m.x | a.m.y) == 0u || (b.m.x | b.m.y) == 0u) { return sd_zero(); }
  let p0 = mul_wide(a.m.x, b.m.x);
  let p1 = mul_wide(a.m.x, b.m.y);
  let p2 = mul_wide(a.m.y, b.m.x);
  let p3 = mul_wide(a.m.y, b.m.y);
  let s = u128_add(u128_add(vec4<u32>(p0, 0u, 0u), vec4<u32>(0u, p1, 0u)), u128_add(vec4<u32>(0u, p2, 0u), vec4<u32>(0u, 0u, p3)));
  return sd_round(a.neg ^ b.neg, s, a.e + b.e);
}

fn sd_add(a: SD, b: SD) -> SD {
  if ((a.m.x | a.m.y) == 0u) { return b; }
  if ((b.m.x | b.m.y) == 0u) { return a; }
  var x = a;
  var y = b;
  if (y.e > x.e) { x = b; y = a; }
  let d = x.e - y.e;
  // y below a quarter ulp of x cannot move the rounded sum
  if (d > 70) { return x; }
  let X = u128_shl(vec4<u32>(x.m, 0u, 0u), u32(d));
  let Y = vec4<u32>(y.m, 0u, 0u);
  var neg = x.neg;
  var mag: vec4<u32>;
  if (x.neg == y.neg) {
    mag = u128_add(X, Y);
  } else if (u128_lt(X, Y)) {
    mag = u128_sub(Y, X);
    neg = y.neg;
  } else {
    mag = u128_sub(X, Y);
  }
  return sd_round(neg, mag, y.e);
}

fn sd_to_f32_bits(a: SD) -> u32 {
  return round_u64_to_f32_bits(a.neg, a.m, a.e, false);
}
`;
