/**
 * Symmetric integer activation quantizers of b1.58 and a4.8 (per token by default):
 *
 * INT8 absmax:  Q(x) = (γ/127)·RoundClip(127·x/(γ+ε), −128, 127),  γ = max|x|
 *   reference code (epsMode "clamp", default): s = 127 / max(γ, 1e-5); code = clamp(round(x·s), −128, 127); x ≈ code/s
 * INT4 absmean: Q(x) = (β/√7)·RoundClip(√7·x/(β+ε), −8, 7),  β = mean|x|  (betaScale: the paper's β = 2·mean|x|
 *   variant for the down projection of full-INT4 models)
 *
 * Both compute s = Q / guard(stat) in float32 and code = RoundClip(fround(x·s)) — the order tfjs and PyTorch use.
 */
import { type EpsOptions, guard } from "./eps";
import { f32, regionAbsMax, regionAbsSum } from "./float32";
import { forEachBlock, type Granularity, gridFor } from "./granularity";
import { makeQuantized, type QuantizedTensor } from "./quantized-tensor";
import { roundHalfEven } from "./round-half-even";
import { assertFinite, assertLength, assertShape, QuantInputError, type Shape2D } from "./validate";

export interface ActivationQuantOptions extends EpsOptions {
  /** Default "row": per token, as in inference (and the official b1.58 training code). */
  granularity?: Granularity;
}

export const SQRT7 = Math.fround(Math.sqrt(7));

interface SymmetricSpec {
  scheme: string;
  q: number; // the multiplier numerator: 127 or √7
  lo: number;
  hi: number;
  stat: "absmax" | "absmean";
  statScale: number;
}

function quantizeSymmetric(x: ArrayLike<number>, shape: Shape2D, spec: SymmetricSpec, options: ActivationQuantOptions): QuantizedTensor<Int8Array> {
  const who = `quantize${spec.scheme === "int8" ? "Int8" : "Int4"}`;
  assertShape(`${who} shape`, shape);
  const [rows, cols] = shape;
  assertLength(`${who} input`, x, rows * cols);
  const granularity = options.granularity ?? "row";
  const grid = gridFor(shape, granularity, `${who} granularity`);
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(grid.rowBlocks * grid.colBlocks);
  const paper = options.epsMode === "add";
  if (x instanceof Float32Array && grid.rowsPer === 1) {
    // the inference hot path (per token, or per token and group, float32 input): the same arithmetic in
    // monomorphic loops
    quantizeRowsF32(x, rows, cols, grid.colBlocks, spec, options, codes, scales);
    return makeQuantized(spec.scheme, shape, granularity, grid, codes, scales);
  }
  assertFinite(`${who} input`, x);
  forEachBlock(grid, (b, r0, r1, c0, c1) => {
    const raw =
      spec.stat === "absmax"
        ? regionAbsMax(x, cols, r0, r1, c0, c1)
        : regionAbsSum(x, cols, r0, r1, c0, c1) / ((r1 - r0) * (c1 - c0));
    const stat = f32(f32(raw) * spec.statScale);
    const s = f32(spec.q / guard(stat, options));
    scales[b] = paper ? f32(stat / spec.q) : f32(1 / s);
    for (let r = r0; r < r1; r++)
      for (let c = c0; c < c1; c++) {
        const i = r * cols + c;
        const v = roundHalfEven(f32(x[i]! * s));
        codes[i] = v > spec.hi ? spec.hi : v < spec.lo ? spec.lo : v + 0;
      }
  });
  return makeQuantized(spec.scheme, shape, granularity, grid, codes, scales);
}

/** quantizeSymmetric for one-row regions (rows × colBlocks) of float32 input; codes and scales identical to the generic loop (tested). */
function quantizeRowsF32(
  x: Float32Array,
  rows: number,
  cols: number,
  colBlocks: number,
  spec: SymmetricSpec,
  options: ActivationQuantOptions,
  codes: Int8Array,
  scales: Float32Array,
): void {
  const who = `quantize${spec.scheme === "int8" ? "Int8" : "Int4"}`;
  const paper = options.epsMode === "add";
  const { lo, hi } = spec;
  const per = cols / colBlocks;
  for (let r = 0; r < rows; r++)
    for (let cb = 0; cb < colBlocks; cb++) {
      const base = r * cols + cb * per;
      let max = 0;
      let sum = 0;
      for (let c = 0; c < per; c++) {
        const v = x[base + c]!;
        const a = Math.abs(v);
        if (!(a < Number.POSITIVE_INFINITY)) throw new QuantInputError(`${who} input: element ${base + c} is ${v}; expected a finite number`);
        if (a > max) max = a;
        sum += a;
      }
      const raw = spec.stat === "absmax" ? max : sum / per;
      const stat = f32(f32(raw) * spec.statScale);
      const s = f32(spec.q / guard(stat, options));
      scales[r * colBlocks + cb] = paper ? f32(stat / spec.q) : f32(1 / s);
      for (let c = 0; c < per; c++) {
        const v = f32(x[base + c]! * s);
        let q = Math.round(v);
        if (q - v === 0.5 && (q & 1) !== 0) q -= 1; // ties to even (roundHalfEven)
        codes[base + c] = q > hi ? hi : q < lo ? lo : q;
      }
    }
}

export function quantizeInt8(x: ArrayLike<number>, shape: Shape2D, options: ActivationQuantOptions = {}): QuantizedTensor<Int8Array> {
  return quantizeSymmetric(x, shape, { scheme: "int8", q: 127, lo: -128, hi: 127, stat: "absmax", statScale: 1 }, options);
}

export function quantizeInt4(
  x: ArrayLike<number>,
  shape: Shape2D,
  options: ActivationQuantOptions & { betaScale?: number } = {},
): QuantizedTensor<Int8Array> {
  const betaScale = options.betaScale ?? 1;
  if (!(betaScale > 0)) throw new RangeError(`quantizeInt4 betaScale: expected a positive number, got ${options.betaScale}`);
  return quantizeSymmetric(x, shape, { scheme: "int4", q: SQRT7, lo: -8, hi: 7, stat: "absmean", statScale: betaScale }, options);
}
