/**
 * Reductions across a 64-thread workgroup, with two barriers each: 64 partials → 8 sums of 8 (threads 0..7) →
 * every thread adds the 8. A tree would take six barriers; barriers are what a CPU WebGPU (SwiftShader, as in CI)
 * pays most for, and one per-token workgroup does not need more parallelism than 64 threads on a GPU either.
 * Max and the integer sum are exact in any order; the float sum's order is fixed (eight runs of eight, then the
 * eight in order), so results do not vary between runs. Call from uniform control flow; every thread gets the result.
 */
export const REDUCE_WORKGROUP = 64;

export const REDUCE_WGSL = /* wgsl */ `
var<workgroup> red64: array<f32, 64>;
var<workgroup> red8: array<f32, 8>;
var<workgroup> red64_lo: array<u32, 64>;
var<workgroup> red64_hi: array<u32, 64>;
var<workgroup> red8_lo: array<u32, 8>;
var<workgroup> red8_hi: array<u32, 8>;

fn wg_max(v: f32, lid: u32) -> f32 {
  red64[lid] = v;
  workgroupBarrier();
  if (lid < 8u) {
    var m = red64[lid * 8u];
    for (var i = 1u; i < 8u; i++) { m = max(m, red64[lid * 8u + i]); }
    red8[lid] = m;
  }
  workgroupBarrier();
  var m = red8[0];
  for (var i = 1u; i < 8u; i++) { m = max(m, red8[i]); }
  return m;
}

fn wg_sum(v: f32, lid: u32) -> f32 {
  red64[lid] = v;
  workgroupBarrier();
  if (lid < 8u) {
    var s = red64[lid * 8u];
    for (var i = 1u; i < 8u; i++) { s = s + red64[lid * 8u + i]; }
    red8[lid] = s;
  }
  workgroupBarrier();
  var s = red8[0];
  for (var i = 1u; i < 8u; i++) { s = s + red8[i]; }
  return s;
}

fn add_u64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// exact 64-bit integer sum (lo, hi)
fn wg_sum_u64(v: vec2<u32>, lid: u32) -> vec2<u32> {
  red64_lo[lid] = v.x;
  red64_hi[lid] = v.y;
  workgroupBarrier();
  if (lid < 8u) {
    var s = vec2<u32>(0u);
    for (var i = 0u; i < 8u; i++) { s = add_u64(s, vec2<u32>(red64_lo[lid * 8u + i], red64_hi[lid * 8u + i])); }
    red8_lo[lid] = s.x;
    red8_hi[lid] = s.y;
  }
  workgroupBarrier();
  var s = vec2<u32>(0u);
  for (var i = 0u; i < 8u; i++) { s = add_u64(s, vec2<u32>(red8_lo[i], red8_hi[i])); }
  return s;
}
`;
