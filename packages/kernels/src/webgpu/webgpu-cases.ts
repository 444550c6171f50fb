/**
 * Checks of the webgpu backend beyond the shared conformance suite (conformance-cases.ts), run in Chromium by
 * webgpu-conformance.test.ts: the float kernels' errors measured against the js reference and held to the
 * tolerances README.md states, a quantize → bitLinear chain on the device at a 2B4T-like width equal to the
 * reference bit for bit, many kernels before one read, and the refusals (unsupported kernels, host arrays where
 * a kernel writes in place, freed tensors).
 */
import type { Backend, QuantizedActivations } from "../backend";
import { activations, ternaryWeight } from "../conformance-cases";
import { identical, rng } from "../conformance-helpers";
import type { Activations, DeviceTensor } from "../contract/tensors";

/** The BitLinear cases of the shared suite, re-run with several threads per output row (the layout a GPU gets). */
export const BITLINEAR_CASE = /×|rows|weights|GEMV/;
/** log2 of the threads per row those re-runs use. */
export const ROW_LAYOUTS = [6, 2] as const;

export interface WebgpuCase {
  name: string;
  /** Returns the measured errors worth reporting (name → value). */
  run(b: Backend, ref: Backend): Promise<Record<string, number>>;
}

/** The tolerances README.md states. */
export const TOLERANCE = {
  /** rope: |Δ| ≤ 2^-22·(|x1| + |x2|) of the rotated pair. */
  rope: 2 ** -22,
  /** softmax: |Δ| ≤ 1e-6·(max probability of the row) + 4 ulp of the value. */
  softmaxAbs: 1e-6,
  /** SiLU: |Δ| ≤ 1e-6·(1 + |y|). */
  silu: 1e-6,
} as const;

async function throws(fn: () => unknown, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (pattern.test((e as Error).message)) return;
    throw new Error(`expected an error matching ${pattern}, got: ${(e as Error).message}`);
  }
  throw new Error(`expected an error matching ${pattern}, but nothing was thrown`);
}


const ulp = (v: number) => {
  const a = Math.abs(Math.fround(v));
  if (a === 0) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
};

export const WEBGPU_CASES: WebgpuCase[] = [
  {
    name: "rope, half and interleaved: within 2^-22·(|x1| + |x2|) of the reference",
    async run(b, ref) {
      const r = rng(71);
      let worst = 0;
      for (const style of ["half", "interleaved"] as const)
        for (const [tokens, heads, headDim, theta] of [[3, 4, 64, 10000], [2, 3, 128, 500000], [1, 2, 6, 10000]] as const) {
          const x = Float32Array.from({ length: tokens * heads * headDim }, () => (r() - 0.5) * 8);
          const positions = Int32Array.from({ length: tokens }, (_, t) => [0, 7, 4095][t]!);
          const want = x.slice();
          ref.rope({ x: want, tokens, heads, headDim, positions, theta, style });
          const dx = b.upload(x);
          b.rope({ x: dx, tokens, heads, headDim, positions, theta, style });
          const got = await b.read(dx);
          const half = headDim / 2;
          for (let i = 0; i < x.length; i++) {
            const d = i % headDim;
            const partner = style === "half" ? (d < half ? i + half : i - half) : d % 2 === 0 ? i + 1 : i - 1;
            const scale = Math.abs(x[i]!) + Math.abs(x[partner]!);
            const err = Math.abs(got[i]! - want[i]!);
            worst = Math.max(worst, err / scale);
            if (err > TOLERANCE.rope * scale) throw new Error(`rope ${style} ${tokens}×${heads}×${headDim}: value ${i} is ${got[i]}, the reference gives ${want[i]} (|Δ| ${err.toExponential(2)} > 2^-22·${scale})`);
          }
        }
      return { "rope max |Δ|/(|x1|+|x2|)": worst };
    },
  },
  {
    name: "softmax (with −∞ entries and an all −∞ row): within 1e-6 of each row's max probability + 4 ulp",
    async run(b, ref) {
      const r = rng(73);
      let worst = 0;
      for (const [rows, cols] of [[4, 7], [3, 300], [2, 3000]] as const) {
        const x = Float32Array.from({ length: rows * cols }, () => (r() - 0.5) * 30);
        x[1] = Number.NEGATIVE_INFINITY;
        x.fill(Number.NEGATIVE_INFINITY, cols, 2 * cols); // row 1: all −∞ → zeros
        const want = x.slice();
        ref.softmax({ x: want, rows, cols });
        const dx = b.upload(x);
        b.softmax({ x: dx, rows, cols });
        const got = await b.read(dx);
        for (let row = 0; row < rows; row++) {
          let top = 0;
          for (let c = 0; c < cols; c++) top = Math.max(top, want[row * cols + c]!);
          for (let c = 0; c < cols; c++) {
            const i = row * cols + c;
            const err = Math.abs(got[i]! - want[i]!);
            if (top > 0) worst = Math.max(worst, err / top);
            if (err > TOLERANCE.softmaxAbs * top + 4 * ulp(want[i]!)) throw new Error(`softmax ${rows}×${cols}: value ${i} is ${got[i]}, the reference gives ${want[i]}`);
          }
        }
        if (got[cols] !== 0 || got[2 * cols - 1] !== 0) throw new Error("softmax: a row of −∞ must give zeros");
      }
      return { "softmax max |Δ|/row max": worst };
    },
  },
  {
    name: "SiLU and norms: errors measured (the conformance suite holds them to 1e-6 and 1e-5)",
    async run(b, ref) {
      const r = rng(79);
      const tokens = 2;
      const features = 2560;
      const x = Float32Array.from({ length: tokens * features }, () => (r() - 0.5) * 16);
      const want = x.slice();
      ref.gateActivation({ x: want, tokens, features, activation: "silu" });
      const dx = b.upload(x);
      if (b.gateActivation({ x: dx, tokens, features, activation: "silu", activeRows: new Uint8Array(features) }) !== -1) throw new Error("gateActivation on the device: expected −1 (rows not counted)");
      const got = await b.read(dx);
      let silu = 0;
      for (let i = 0; i < x.length; i++) silu = Math.max(silu, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
      if (silu > TOLERANCE.silu) throw new Error(`silu: relative error ${silu} > ${TOLERANCE.silu}`);
      const gain = Float32Array.from({ length: features }, () => 0.5 + r());
      const errors: Record<string, number> = { "silu max |Δ|/(1+|y|)": silu };
      for (const [kind, groups] of [["rms", 1], ["rms", 4], ["layer", 1]] as const) {
        const args = { tokens, features, gain, eps: 1e-6, kind, groups };
        const w = await ref.read(ref.norm({ x, ...args }));
        const g = await b.read(b.norm({ x: b.upload(x), ...args }));
        let e = 0;
        for (let i = 0; i < w.length; i++) e = Math.max(e, Math.abs(g[i]! - w[i]!) / (1 + Math.abs(w[i]!)));
        if (e > 1e-5) throw new Error(`norm ${kind} ×${groups}: relative error ${e}`);
        errors[`norm ${kind} ×${groups} max |Δ|/(1+|y|)`] = e;
      }
      return errors;
    },
  },
  {
    name: "quantize → bitLinear on the device at 2560 → 256, int8 and int4, 1 and 5 tokens: the reference bit for bit",
    async run(b, ref) {
      const r = rng(83);
      const inF = 2560;
      const out = 256;
      const w = ternaryWeight(out, inF, 5);
      const pw = b.prepareWeight({ weight: w });
      const rw = ref.prepareWeight({ weight: w });
      for (const kind of ["int8", "int4"] as const)
        for (const tokens of [1, 5]) {
          const x = Float32Array.from({ length: tokens * inF }, () => (r() - 0.5) * (r() < 0.01 ? 40 : 2));
          const qRef = ref.quantize({ x, tokens, features: inF, kind }) as QuantizedActivations;
          const want = await ref.read(ref.bitLinear({ weight: rw, input: qRef }));
          const q = b.quantize({ x: b.upload(x), tokens, features: inF, kind });
          const got = await b.read(b.bitLinear({ weight: pw, input: q }));
          identical(`${kind} × ${tokens} tokens, device chain`, got, want);
          // and the same weight with host activations (uploaded by bitLinear)
          identical(`${kind} × ${tokens} tokens, host activations`, await b.read(b.bitLinear({ weight: pw, input: qRef })), want);
        }
      // a binary weight and an "out"-grouped ternary one from device activations
      const x = activations(3, 256, 9);
      for (const weight of [ternaryWeight(96, 256, 11, "out", 4)]) {
        const want = await ref.read(ref.bitLinear({ weight: ref.prepareWeight({ weight }), input: x }));
        identical("grouped weight", await b.read(b.bitLinear({ weight: b.prepareWeight({ weight }), input: x })), want);
      }
      return {};
    },
  },
  {
    name: "300 kernels encoded before one read (past the per-submit pass and params limits)",
    async run(b) {
      const n = 1000;
      const x = b.upload(new Float32Array(n));
      const one = b.upload(new Float32Array(n).fill(1));
      for (let i = 0; i < 300; i++) b.add({ x, y: one });
      const got = await b.read(x);
      if (got.some((v) => v !== 300)) throw new Error(`after 300 adds of 1: found ${got.find((v) => v !== 300)}`);
      const same = b.upload(Float32Array.of(1, 2, 3));
      b.multiply({ x: same, y: same });
      identical("multiply x by itself", await b.read(same), [1, 4, 9]);
      return {};
    },
  },
  {
    name: "refusals: unsupported kernels, host arrays written in place, freed and foreign tensors",
    async run(b, ref) {
      await throws(() => b.rmsNormQuantize({ x: new Float32Array(4), tokens: 1, features: 4, gain: null, eps: 1e-5, kind: "int8" }), /does not offer rmsNormQuantize: .*norm, then quantize/);
      await throws(() => b.firstNonFinite({ x: b.upload(new Float32Array(4)) }), /does not offer firstNonFinite: .*checks its logits/);
      // KV stores the kernels write in place must live on the device
      const store = () => b.allocF32(1) as DeviceTensor;
      const kv = { x: new Float32Array(4), groups: 1, groupSize: 4, bits: 4, bitOffset: 0, scales: b.allocF32(1), offsets: b.allocF32(1) };
      await throws(() => b.quantizeUnsignedInto({ ...kv, codes: new Uint8Array(4) }), /quantizeUnsignedInto codes: got host bytes, but this kernel writes the codes in place/);
      await throws(() => b.quantizeUnsignedInto({ ...kv, codes: store(), scales: new Float32Array(1) }), /quantizeUnsignedInto scales: got a host Float32Array/);
      await throws(() => b.quantizeUnsignedInto({ ...kv, codes: store(), bits: 5 }), /quantizeUnsignedInto bits: expected 3, 4 or 8, got 5/);
      await throws(() => b.quantizeUnsignedInto({ ...kv, codes: store(), bits: 8, bitOffset: 8 }), /quantizeUnsignedInto codes: 4 bytes end before bit 40/);
      await throws(() => b.encodeHalf({ x: new Float32Array(2), dst: new Uint16Array(2), dstOffset: 0 }), /encodeHalf dst: got a host Uint16Array/);
      await throws(() => b.decodeHalf({ src: store(), length: 2, out: new Float32Array(2) }), /decodeHalf out: got a host Float32Array/);
      await throws(() => b.decodeHalf({ src: store(), srcOffset: 1, length: 2, out: b.allocF32(2) }), /decodeHalf src: 2 halves at offset 1 do not fit 2/);
      await throws(() => b.rope({ x: new Float32Array(4), tokens: 1, heads: 1, headDim: 4, positions: Int32Array.of(0), theta: 1e4, style: "half" }), /rope x: got a host Float32Array/);
      await throws(() => b.softmax({ x: new Float32Array(3), rows: 1, cols: 3 }), /softmax x: got a host Float32Array/);
      const t = b.allocF32(8);
      b.freeF32(t);
      await throws(() => b.read(t), /freed with freeF32/);
      await throws(() => b.copyInto({ src: b.upload(new Float32Array(4)), dst: t, dstOffset: 0 }), /copyInto dst: this tensor was freed/);
      await throws(() => b.freeF32(t), /freed with freeF32/);
      const fake: Activations = { residency: "device", owner: "elsewhere", length: 4 };
      await throws(() => b.add({ x: b.upload(new Float32Array(4)), y: fake }), /add y: got a tensor resident on the elsewhere device/);
      await throws(() => b.bitLinear({ weight: b.prepareWeight({ weight: ternaryWeight(2, 8, 1) }), input: ref.quantize({ x: new Float32Array(8), tokens: 1, features: 8, kind: "int8" }), rowMask: new Uint8Array(3) }), /rowMask: has 3 entries/);
      const kinds = b.kernels();
      const unsupported = kinds.filter((k) => k.source === "unsupported").map((k) => k.kernel);
      if (unsupported.join() !== "rmsNormQuantize,firstNonFinite") throw new Error(`unsupported kernels: ${unsupported.join(", ")}`);
      if (kinds.some((k) => k.source === "reference" || k.calls.reference > 0)) throw new Error("a device backend never runs the reference");
      return {};
    },
  },
];
