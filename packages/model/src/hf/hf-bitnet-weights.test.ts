import type { PackedLinearWeight } from "@onebit/kernels";
import { floatToBf16, packTernaryT2, quantizeTernary, roundHalfEven, unpackTernaryT2 } from "@onebit/quant";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../sampling";
import { encodeSafetensorsHeader } from "../safetensors/safetensors-writer";
import { openSafetensors } from "../safetensors/safetensors-source";
import { memoryByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { hfLatentToOnebit, hfPackedToOnebit, multiplierFromWeightScale, onebitToHfPacked, readHfBitLinear } from "./hf-bitnet-weights";
import type { HfTensor } from "./hf-tensor";

const f32 = Math.fround;
const FILE = "model.safetensors";
const tensor = (name: string, dtype: string, shape: number[], data: Uint8Array): HfTensor => ({ file: FILE, name, dtype, shape, data });
const bf16Bytes = (...xs: number[]) => new Uint8Array(Uint16Array.from(xs, floatToBf16).buffer);
const f32Bytes = (...xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

// transformers' own example (src/transformers/integrations/bitnet.py, unpack_weights docstring): packed [2, 2] →
// ternary [8, 2]; row r + 2i sits in bits 2i of byte row r.
const DOC_PACKED = Uint8Array.of(0b10100001, 0b00011000, 0b10010000, 0b00001010);
const DOC_TERNARY = [
  [0, -1],
  [-1, 1],
  [-1, 1],
  [-1, 1],
  [1, 0],
  [0, -1],
  [1, -1],
  [1, -1],
];

describe("HF packed BitNet weights ↔ onebit", () => {
  it("decodes transformers' unpack_weights example into onebit-t2 bytes (hand-worked) and encodes it back", () => {
    const w = hfPackedToOnebit(tensor("w", "U8", [2, 2], DOC_PACKED), tensor("w_scale", "BF16", [1], bf16Bytes(1.5)), 8, "autobitlinear");
    expect(w.kind).toBe("ternary");
    expect(w.scaleAxis).toBe("tensor");
    expect([...w.scales]).toEqual([1.5]);
    // onebit-t2, in = 2: one 16-byte block per row; byte 0 holds column 0 at bits 0-1, byte 1 column 1; the rest
    // are padding zeros (code 1 in every slot = 0x55). Code = w + 1.
    const code = (v: number) => v + 1;
    const expected: number[] = [];
    for (const [c0, c1] of DOC_TERNARY) expected.push(0x54 | code(c0!), 0x54 | code(c1!), ...new Array(14).fill(0x55));
    expect([...w.data]).toEqual(expected);
    expect([...unpackTernaryT2(w.data, 8, 2)]).toEqual(DOC_TERNARY.flat());

    const back = onebitToHfPacked(w, "w", { linearClass: "autobitlinear" });
    expect(back.weight).toEqual({ name: "w", dtype: "U8", shape: [2, 2], data: DOC_PACKED });
    expect(back.weightScale.name).toBe("w_scale");
    expect(back.weightScale.dtype).toBe("F32");
    expect([...back.weightScale.data]).toEqual([0x00, 0x00, 0xc0, 0x3f]); // 1.5f little-endian
  });

  it("reads weight_scale by the checkpoint's linear class: AutoBitLinear multiplies, BitLinear divides", () => {
    const packed = tensor("w", "U8", [2, 2], DOC_PACKED);
    expect([...hfPackedToOnebit(packed, tensor("s", "F32", [1], f32Bytes(1.5)), 8, "autobitlinear").scales]).toEqual([1.5]);
    expect([...hfPackedToOnebit(packed, tensor("s", "F32", [1], f32Bytes(1.5)), 8, "bitlinear").scales]).toEqual([f32(1 / 1.5)]);
    const w = hfPackedToOnebit(packed, tensor("s", "F32", [1], f32Bytes(0.25)), 8, "bitlinear");
    expect([...w.scales]).toEqual([4]);
    expect([...onebitToHfPacked(w, "w", { linearClass: "bitlinear" }).weightScale.data]).toEqual([...f32Bytes(0.25)]);
  });

  it("replays the header comment's worked example through the three transformers forwards", () => {
    // transformers ActQuant / BitLinear.activation_quant, per token, in float32
    const actQuant = (x: number[]) => {
      const s = f32(127 / Math.max(Math.max(...x.map(Math.abs)), 1e-5));
      const q = x.map((v) => Math.min(127, Math.max(-128, roundHalfEven(f32(v * s)))));
      return { q, s, deq: q.map((v) => f32(v / s)) };
    };
    const latent = [3, 0, -1.5, 1.5];
    const x = [0.5, 0.25, 1, -0.75];
    const { q, s: inputScale, deq } = actQuant(x);
    expect(q).toEqual([64, 32, 127, -95]);
    // online (the -bf16 sibling): WeightQuant then F.linear
    const gamma = f32(latent.reduce((a, v) => a + Math.abs(v), 0) / latent.length);
    const s = f32(1 / Math.max(gamma, 1e-5));
    const codes = latent.map((v) => Math.min(1, Math.max(-1, roundHalfEven(f32(v * s)))));
    expect(codes).toEqual([1, 0, -1, 1]);
    const online = deq.reduce((a, v, i) => a + v * f32(codes[i]! / s), 0);
    // AutoBitLinear offline: output = F.linear(ActQuant(x), W̃) * weight_scale, with weight_scale = γ
    const auto = deq.reduce((a, v, i) => a + v * codes[i]!, 0) * 1.5;
    // BitLinear: y_int / (input_scale · weight_scale), with weight_scale = s = 1/γ
    const bit = q.reduce((a, v, i) => a + v * codes[i]!, 0) / (inputScale * f32(2 / 3));
    expect(online).toBeCloseTo(-1.8661417, 6);
    expect(auto).toBeCloseTo(online, 6);
    expect(bit).toBeCloseTo(online, 6);
    // onebit computes code · scales[0]; both readings land on γ
    expect(multiplierFromWeightScale(1.5, "autobitlinear")).toBe(1.5);
    expect(multiplierFromWeightScale(f32(2 / 3), "bitlinear")).toBeCloseTo(1.5, 6);
    // …and the other reading of AutoBitLinear's number would be off by γ² = 2.25
    expect(deq.reduce((a, v, i) => a + v * codes[i]!, 0) / 1.5 / online).toBeCloseTo(1 / 2.25, 6);
  });

  it("round-trips onebit → HF → onebit byte-exactly for the codes and exactly for a representable scale", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 1, max: 140 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.float({ min: Math.fround(1e-20), max: Math.fround(1e20), noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom<"autobitlinear" | "bitlinear">("autobitlinear", "bitlinear"),
        fc.constantFrom<"F32" | "BF16">("F32", "BF16"),
        (out, inF, seed, scale, linearClass, scaleDtype) => {
          const next = seededRandom(seed);
          const codes = Int8Array.from({ length: out * inF }, () => Math.floor(next() * 3) - 1);
          let m = f32(scale);
          if (scaleDtype === "BF16") m = new Float32Array(new Uint32Array([floatToBf16(m) << 16]).buffer)[0]!; // a bf16 number
          const w: PackedLinearWeight = { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(codes, out, inF), scales: Float32Array.of(m), scaleAxis: "tensor" };
          const hf = onebitToHfPacked(w, "p.weight", { linearClass, scaleDtype });
          expect(hf.weight.shape).toEqual([Math.ceil(out / 4), inF]);
          const back = hfPackedToOnebit({ file: FILE, ...hf.weight }, { file: FILE, ...hf.weightScale }, out, linearClass);
          expect(back.data).toEqual(w.data);
          // representable: AutoBitLinear stores the multiplier itself; BitLinear stores 1/m, exact when 1/(1/m) = m
          const ws = linearClass === "autobitlinear" ? m : f32(1 / m);
          const storedExactly = scaleDtype === "F32" || floatToBf16(ws) << 16 === new Uint32Array(Float32Array.of(ws).buffer)[0];
          if (storedExactly && (linearClass === "autobitlinear" || f32(1 / ws) === m)) expect(back.scales[0]).toBe(m);
          else expect(Math.abs(back.scales[0]! - m) / m).toBeLessThan(2 ** -7);
        },
      ),
      { numRuns: 200, seed: 1701 },
    );
    // powers of two survive both readings and both dtypes
    for (const m of [2 ** -10, 0.5, 1, 4, 2 ** 20])
      for (const linearClass of ["autobitlinear", "bitlinear"] as const)
        for (const scaleDtype of ["F32", "BF16"] as const) {
          const w: PackedLinearWeight = { kind: "ternary", outFeatures: 4, inFeatures: 3, data: packTernaryT2([1, 0, -1, 0, 0, 0, 1, 1, 1, -1, -1, -1], 4, 3), scales: Float32Array.of(m), scaleAxis: "tensor" };
          const hf = onebitToHfPacked(w, "w", { linearClass, scaleDtype });
          expect(hfPackedToOnebit({ file: FILE, ...hf.weight }, { file: FILE, ...hf.weightScale }, 4, linearClass).scales[0]).toBe(m);
        }
  });

  it("refuses what is not a per-tensor ternary weight, or a malformed packed tensor", () => {
    const scale = tensor("w.weight_scale", "BF16", [1], bf16Bytes(1));
    const refuse = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ModelFileError);
        return (e as Error).message;
      }
      throw new Error("expected a refusal");
    };
    expect(refuse(() => hfPackedToOnebit(tensor("w.weight", "U8", [3, 2], new Uint8Array(6)), scale, 8, "autobitlinear"))).toBe(`${FILE}: tensor "w.weight".shape: expected [2,2], found [3,2]`);
    expect(refuse(() => hfPackedToOnebit(tensor("w.weight", "I8", [2, 2], new Uint8Array(4)), scale, 8, "autobitlinear"))).toBe(`${FILE}: tensor "w.weight".dtype: expected U8, found "I8"`);
    expect(refuse(() => hfPackedToOnebit(tensor("w.weight", "U8", [2, 2], Uint8Array.of(0xff, 0x55, 0x55, 0x55)), scale, 8, "autobitlinear"))).toBe(
      `${FILE}: tensor "w.weight": invalid code 3 for weight row 0, column 0`,
    );
    expect(refuse(() => hfPackedToOnebit(tensor("w.weight", "U8", [2, 2], DOC_PACKED), tensor("w.weight_scale", "F16", [1], new Uint8Array(2)), 8, "autobitlinear"))).toBe(
      `${FILE}: tensor "w.weight_scale".dtype: expected BF16 or F32, found "F16"`,
    );
    expect(refuse(() => hfPackedToOnebit(tensor("w.weight", "U8", [2, 2], DOC_PACKED), tensor("w.weight_scale", "F32", [1], f32Bytes(-2)), 8, "autobitlinear"))).toBe(
      `${FILE}: tensor "w.weight_scale": expected a positive finite scale, found -2`,
    );
    const grouped: PackedLinearWeight = { kind: "ternary", outFeatures: 4, inFeatures: 2, data: new Uint8Array(64).fill(0x55), scales: Float32Array.of(1, 2), scaleAxis: "out" };
    expect(() => onebitToHfPacked(grouped, "g", { linearClass: "autobitlinear" })).toThrow('tensor "g": HF BitNet stores one weight_scale per linear; found 2 scales along "out"');
    expect(() => onebitToHfPacked({ ...grouped, kind: "binary", scales: Float32Array.of(1), scaleAxis: "tensor" }, "b", { linearClass: "autobitlinear" })).toThrow(
      'tensor "b": HF BitNet stores ternary weights; found kind "binary"',
    );
  });
});

describe("HF latent (-bf16) BitNet weights → onebit", () => {
  it("ternarizes as WeightQuant does: per tensor, s = 1/max(mean|W|, 1e-5), round half to even", () => {
    const w = hfLatentToOnebit(tensor("w", "BF16", [1, 4], bf16Bytes(3, 0, -1.5, 1.5)));
    expect([...unpackTernaryT2(w.data, 1, 4)]).toEqual([1, 0, -1, 1]);
    expect([...w.scales]).toEqual([1.5]);
    // mean|W| = 1, so s = 1 and 0.5 lies exactly on the boundary: it rounds to even (0), as torch.round does
    const tie = hfLatentToOnebit(tensor("w", "F32", [1, 4], f32Bytes(1.5, -1, 0.5, -1)));
    expect([...unpackTernaryT2(tie.data, 1, 4)]).toEqual([1, -1, 0, -1]);
    const random = Float32Array.from({ length: 6 * 70 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
    const viaHf = hfLatentToOnebit(tensor("w", "F32", [6, 70], new Uint8Array(random.buffer)));
    const direct = quantizeTernary(random, [6, 70], { granularity: "tensor" });
    expect(viaHf.data).toEqual(packTernaryT2(direct.codes, 6, 70));
    expect(viaHf.scales[0]).toBe(direct.scales[0]);
    expect(() => hfLatentToOnebit(tensor("w", "F32", [1, 2], f32Bytes(1, Number.NaN)))).toThrow(`${FILE}: tensor "w": value NaN at row 0, column 1: expected finite weights`);
  });
});

describe("readHfBitLinear", () => {
  it("reads a projection of an offline and of an online checkpoint by name", async () => {
    const parts = [
      { name: "model.layers.0.mlp.down_proj.weight", dtype: "U8" as const, shape: [2, 2], data: DOC_PACKED },
      { name: "model.layers.0.mlp.down_proj.weight_scale", dtype: "BF16" as const, shape: [1], data: bf16Bytes(1.5) },
      { name: "model.layers.0.mlp.up_proj.weight", dtype: "BF16" as const, shape: [1, 4], data: bf16Bytes(3, 0, -1.5, 1.5) },
    ];
    const { header } = encodeSafetensorsHeader(parts.map((p) => ({ name: p.name, dtype: p.dtype, shape: p.shape, byteLength: p.data.length })), undefined, FILE);
    const file = new Uint8Array(header.length + parts.reduce((a, p) => a + p.data.length, 0));
    file.set(header);
    let at = header.length;
    for (const p of parts) {
      file.set(p.data, at);
      at += p.data.length;
    }
    const src = await openSafetensors(memoryByteSource(file, FILE));
    const down = await readHfBitLinear(src, "model.layers.0.mlp.down_proj", 8, { linearClass: "autobitlinear", mode: "offline", modulesToNotConvert: [] });
    expect([...unpackTernaryT2(down.data, 8, 2)]).toEqual(DOC_TERNARY.flat());
    expect([...down.scales]).toEqual([1.5]);
    const up = await readHfBitLinear(src, "model.layers.0.mlp.up_proj", 1, { linearClass: "autobitlinear", mode: "online", modulesToNotConvert: [] });
    expect([...up.scales]).toEqual([1.5]);
    await expect(readHfBitLinear(src, "model.layers.0.mlp.gate_proj", 8, { linearClass: "autobitlinear", mode: "offline", modulesToNotConvert: [] })).rejects.toThrow(
      `${FILE}: tensor "model.layers.0.mlp.gate_proj.weight": is missing`,
    );
  });
});
