import { floatToHalf } from "@onebit/quant";
import { describe, expect, it } from "vitest";
import { f32ToHfDense, hfDenseToF32 } from "./hf-dense-weights";
import type { HfTensor } from "./hf-tensor";

const t = (dtype: string, shape: number[], data: Uint8Array): HfTensor => ({ file: "m.safetensors", name: "model.norm.weight", dtype, shape, data });

describe("HF dense tensors ↔ Float32Array", () => {
  it("widens BF16 and F16 exactly and views F32", () => {
    // bf16 0x3FC0 = 1.5, 0xC0A0 = -5, 0x0001 = the smallest subnormal 2^-133, 0x7F80 = +Inf
    expect([...hfDenseToF32(t("BF16", [2, 2], new Uint8Array(Uint16Array.of(0x3fc0, 0xc0a0, 0x0001, 0x7f80).buffer)), [2, 2])]).toEqual([1.5, -5, 2 ** -133, Number.POSITIVE_INFINITY]);
    expect([...hfDenseToF32(t("F16", [3], new Uint8Array(Uint16Array.from([0.5, -2, 65504], floatToHalf).buffer)), [3])]).toEqual([0.5, -2, 65504]);
    const f = Float32Array.of(0.1, -7);
    expect(hfDenseToF32(t("F32", [2], new Uint8Array(f.buffer)), [2])).toEqual(f);
    // an unaligned slice is copied, not mis-viewed
    const odd = new Uint8Array(9);
    odd.set(new Uint8Array(f.buffer), 1);
    expect(hfDenseToF32(t("F32", [2], odd.subarray(1)), [2])).toEqual(f);
  });

  it("refuses a dtype, shape or byte count it was not promised", () => {
    expect(() => hfDenseToF32(t("I32", [1], new Uint8Array(4)), [1])).toThrow('m.safetensors: tensor "model.norm.weight".dtype: expected F32 or BF16 or F16, found "I32"');
    expect(() => hfDenseToF32(t("F32", [2], new Uint8Array(8)), [3])).toThrow('m.safetensors: tensor "model.norm.weight".shape: expected [3], found [2]');
    expect(() => hfDenseToF32(t("F32", [2], new Uint8Array(6)), [2])).toThrow('m.safetensors: tensor "model.norm.weight": has 6 bytes; F32 [2] needs 8');
  });

  it("writes F32 as is and BF16 rounded to nearest even, as torch's .to(torch.bfloat16)", () => {
    const values = Float32Array.of(1.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -0.1);
    const bf = f32ToHfDense(values, [4], "BF16", "embed");
    expect(bf.dtype).toBe("BF16");
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: to even (1); 1 + 3·2^-8 ties to 1 + 2^-6; -0.1 → 0xBDCD
    expect([...new Uint16Array(bf.data.buffer)]).toEqual([0x3fc0, 0x3f80, 0x3f82, 0xbdcd]);
    expect([...hfDenseToF32({ file: "x", ...bf }, [4])]).toEqual([1.5, 1, 1 + 2 ** -6, -0.10009765625]);
    const f = f32ToHfDense(values, [2, 2], "F32", "embed");
    expect(hfDenseToF32({ file: "x", ...f }, [2, 2])).toEqual(values);
    expect(() => f32ToHfDense(values, [5], "F32", "embed")).toThrow('tensor "embed": has 4 values, shape [5] needs 5');
  });
});
