/**
 * WGSL helpers that give the quantizers and dense int8 the reference's float32 results bit for bit where WGSL
 * does not pin them down: WGSL division is only accurate to 2.5 ulp and its int → float conversion's rounding is
 * not specified, but the quantizers' scales are correctly rounded float32 quotients (JS computes them in double and
 * rounds once, which equals the float32 quotient: 53 ≥ 2·24 + 2).
 *
 * - `round_u64_to_f32_bits(neg, a, e, below)`: the exact value (a + δ)·2^e (a a 64-bit integer as (lo, hi);
 *   δ ∈ (0, 1) when `below`, else 0) rounded half-even to a float32 bit pattern, subnormals included. Results are
 *   handled as bits so no stage may flush a subnormal.
 * - `div_rn(a, b)`: the correctly rounded float32 quotient, by long division of the mantissas.
 * - `f32_bits_from_i32(i)`: float32(i), round-half-even.
 * Straight-line code over vec2<u32>: a CPU WebGPU (SwiftShader) compiles big shaders slowly, so no loops over
 * arrays and few call sites.
 */
export const EXACT_FLOAT_WGSL = /* wgsl */ `
fn u64_shr(a: vec2<u32>, k: u32) -> vec2<u32> {
  if (k == 0u) { return a; }
  if (k < 32u) { return vec2<u32>((a.x >> k) | (a.y << (32u - k)), a.y >> k); }
  if (k < 64u) { return vec2<u32>(a.y >> (k - 32u), 0u); }
  return vec2<u32>(0u);
}

fn u64_shl(a: vec2<u32>, k: u32) -> vec2<u32> {
  if (k == 0u) { return a; }
  if (k < 32u) { return vec2<u32>(a.x << k, (a.y << k) | (a.x >> (32u - k))); }
  if (k < 64u) { return vec2<u32>(0u, a.x << (k - 32u)); }
  return vec2<u32>(0u);
}

// index of the most significant set bit, -1 for zero
fn u64_msb(a: vec2<u32>) -> i32 {
  if (a.y != 0u) { return 32 + i32(firstLeadingBit(a.y)); }
  if (a.x != 0u) { return i32(firstLeadingBit(a.x)); }
  return -1;
}

// bit k, and whether any bit below k is set
fn u64_bit(a: vec2<u32>, k: u32) -> u32 {
  if (k < 32u) { return (a.x >> k) & 1u; }
  if (k < 64u) { return (a.y >> (k - 32u)) & 1u; }
  return 0u;
}

fn u64_low_nonzero(a: vec2<u32>, k: u32) -> bool {
  if (k == 0u) { return false; }
  if (k < 32u) { return (a.x & ((1u << k) - 1u)) != 0u; }
  if (k == 32u) { return a.x != 0u; }
  if (k < 64u) { return a.x != 0u || (a.y & ((1u << (k - 32u)) - 1u)) != 0u; }
  return a.x != 0u || a.y != 0u;
}

// (-1)^neg · (a + δ)·2^e rounded half-even to float32 bits; δ in (0, 1) when below, else 0
fn round_u64_to_f32_bits(neg: u32, a: vec2<u32>, e: i32, below: bool) -> u32 {
  let sign = neg << 31u;
  let p = u64_msb(a);
  if (p < 0) { return sign; }
  var biased = e + p + 127;
  var k = p - 23;
  if (biased < 1) { k = k + (1 - biased); }
  var q: u32;
  if (k <= 0) {
    q = u64_shl(a, u32(-k)).x;
  } else {
    if (k > 64) { return sign; }
    q = u64_shr(a, u32(k)).x;
    let sticky = below || u64_low_nonzero(a, u32(k - 1));
    if (u64_bit(a, u32(k - 1)) == 1u && (sticky || (q & 1u) == 1u)) { q = q + 1u; }
  }
  if (biased < 1) { return sign | q; }
  if (q >= 0x1000000u) { q = q >> 1u; biased = biased + 1; }
  if (biased >= 255) { return sign | 0x7f800000u; }
  return sign | (u32(biased) << 23u) | (q & 0x7fffffu);
}

// float32(i), round-half-even, as bits
fn f32_bits_from_i32(i: i32) -> u32 {
  return round_u64_to_f32_bits(select(0u, 1u, i < 0), vec2<u32>(select(u32(i), 0u - u32(i), i < 0), 0u), 0, false);
}

// mantissa with the implicit bit and the exponent of its lsb: |x| = m·2^e (subnormals: e = -149)
fn f32_parts(b: u32) -> vec2<i32> {
  let ex = i32((b >> 23u) & 0xffu);
  let frac = b & 0x7fffffu;
  if (ex == 0) { return vec2<i32>(i32(frac), -149); }
  return vec2<i32>(i32(frac | 0x800000u), ex - 150);
}

// the correctly rounded float32 quotient a / b for finite a >= 0, b > 0
fn div_rn(a: f32, b: f32) -> f32 {
  let pa = f32_parts(bitcast<u32>(a));
  let pb = f32_parts(bitcast<u32>(b));
  if (pa.x == 0) { return 0.0; }
  // both mantissas to [2^23, 2^24)
  let sa = 23u - firstLeadingBit(u32(pa.x));
  let sb = 23u - firstLeadingBit(u32(pb.x));
  let ma = u32(pa.x) << sa;
  let mb = u32(pb.x) << sb;
  var e = (pa.y - i32(sa)) - (pb.y - i32(sb));
  // quotient in (1/2, 2): start the remainder in [mb, 2mb) so the first quotient bit is 1
  var r = ma;
  if (ma < mb) { r = ma << 1u; e = e - 1; }
  var q = 0u;
  for (var i = 0; i < 26; i++) {
    q = q << 1u;
    if (r >= mb) { r = r - mb; q = q | 1u; }
    r = r << 1u;
  }
  // a/b = (q + r')·2^(e - 25), 0 <= r' < 1, r' > 0 iff r != 0
  return bitcast<f32>(round_u64_to_f32_bits(0u, vec2<u32>(q, 0u), e - 25, r != 0u));
}
`;

/**
 * Float32 products that must stay rounded: a GPU compiler may fuse `a*b + c` into one FMA, which changes the
 * result. `keep(x)` xors the bits with a uniform that is always 0 (`P.zero`), which no compiler can see through,
 * so the product is rounded before the sum as the reference rounds it. The shader's Params struct must have
 * a `zero: u32` field.
 */
export const KEEP_WGSL = /* wgsl */ `
fn keep(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ P.zero); }
`;
