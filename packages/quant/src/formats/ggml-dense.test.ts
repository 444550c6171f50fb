import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { floatToBf16 } from "../bf16";
import { floatToHalf, halfToFloat } from "../fp16";
import { QuantInputError } from "../validate";
import { dequantizeGgml, dequantizeRows, GGML_DENSE_TYPES, ggmlDenseByteLength, ggmlDenseType, quantizeGgml } from "./ggml-dense";

const sha256 = (b: Uint8Array | Float32Array) => createHash("sha256").update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).digest("hex");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * The input of the golden vectors below: xorshift32 from 0x12345678, x = (s >> 8)/2^24·2 − 1 (exact in float32);
 * weights 0..255 as drawn, 256..511 scaled by 2^(((i >> 4) & 15) − 8) (a different scale per 16-weight sub-block),
 * 512..767 zero (ggml's all-zero paths).
 */
function goldenInput(): Float32Array {
  let s = 0x12345678;
  const x = new Float32Array(768);
  for (let i = 0; i < 768; i++) {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    const u = ((s >>> 8) / 16777216) * 2 - 1;
    x[i] = i < 256 ? u : i < 512 ? u * 2 ** (((i >> 4) & 15) - 8) : 0;
  }
  return x;
}

/**
 * Produced by compiling ggml-quants.c's quantize_row_{q4_0,q8_0,q6_K}_ref and dequantize_row_* (llama.cpp
 * c392e5094, with ggml-impl.h's portable fp16 conversion) with gcc -O2 -ffp-contract=off and, identically,
 * -O3 -march=native -ffp-contract=fast, on goldenInput(): SHA-256 of each output and the first block in hex.
 */
const GOLDEN = {
  x: "31391e4900aaff0a2e11660ba06dfe939b8bb27d815dd405b4dbe2e7f2f0c8dc",
  Q4_0: { bytes: "1678ce2f4c54324f391cad0a50b9aa9dfd7a15262c80be76f764cc0a23843061", first: "ccaf381f1cc8d91ee734031c594b10bdf700", values: "784dccb749367bfe50ed32240303eb6a76af793e14136741087fdbee072ae515" },
  Q8_0: { bytes: "6285437a6bf002850a8ea8c2efc7075c9c471a4777acd6bc7cc3326de24d8a40", first: "dc1f0893c702f0a80a4655b9e9cd7fb40d794f716ac0ac6da8517a772d426ccc8e7a", values: "c6f83b58b30259e77b1b1983f804420fd9c9f0295fe1adae3d84716b0759328b" },
  Q6_K: {
    bytes: "5d36f52a4fb63311e13b314ca523ece5258521c574c7e721f051432e43f1dc73",
    // the second block (the one with a different scale per sub-block)
    second:
      "f19ffa5b7269c228037db2156b743dba95a12539918d60050fdc5b63be7ef49d1367889cb1b1aa511700ea0f97ae8e7042b91e2faef66e9253d510d4b63592028acfadb97c85a23f981862a5ba766393cd1fab0485261b296d403c1d6f7fb7f837bd3eb4815ea6cce0fb72b36c0ae0b7873b0ad7fff215cc0727fe36039fc2d210c13192a625b21c43950eb4938ad6e055181aa7805f4dccd20400172f1d8d7e5eddbd07c16c2b8c9c8bb021f81ffd8442cb628753d278e7bdb4569b10b773a0000000000000000001fe0408f01e3e80ff27",
    values: "d5e749c50d62f2c3a96317ec5a8607812d383170113dbf82646dfaaa2833ace9",
  },
};

describe("ggml dense types: table", () => {
  it("has ggml.c's type_traits geometry and ggml.h's ids", () => {
    expect(GGML_DENSE_TYPES.map((t) => [t.name, t.typeId, t.blockSize, t.bytesPerBlock])).toEqual([
      ["F32", 0, 1, 4],
      ["F16", 1, 1, 2],
      ["Q4_0", 2, 32, 18],
      ["Q8_0", 8, 32, 34],
      ["Q6_K", 14, 256, 210],
      ["BF16", 30, 1, 2],
    ]);
    expect(ggmlDenseByteLength("Q6_K", 512)).toBe(420);
    expect(ggmlDenseByteLength("Q8_0", 64)).toBe(68);
    expect(ggmlDenseByteLength("BF16", 3)).toBe(6);
  });

  it("refuses unknown names and counts off the block grid", () => {
    expect(() => ggmlDenseType("Q4_K")).toThrow(/"Q4_K": unknown; expected one of F32, F16, Q4_0, Q8_0, Q6_K, BF16/);
    expect(() => ggmlDenseByteLength("Q8_0", 33)).toThrow(/33 is not a non-negative multiple of Q8_0's block size 32/);
    expect(() => dequantizeGgml("Q4_0", new Uint8Array(17), 32)).toThrow(/has 17 bytes, expected 18/);
    expect(() => quantizeGgml("Q6_K", new Float32Array(255))).toThrow(QuantInputError);
    expect(() => quantizeGgml("Q8_0", [...new Array(31).fill(0), Number.NaN])).toThrow(/element 31 is NaN/);
  });
});

describe("ggml dense types: bytes identical to ggml-quants.c", () => {
  const x = goldenInput();
  it("regenerates the input the C program used", () => expect(sha256(x)).toBe(GOLDEN.x));

  it("Q4_0 = quantize_row_q4_0_ref, dequantize_row_q4_0", () => {
    const q = quantizeGgml("Q4_0", x);
    expect(hex(q.subarray(0, 18))).toBe(GOLDEN.Q4_0.first);
    expect(sha256(q)).toBe(GOLDEN.Q4_0.bytes);
    expect(sha256(dequantizeGgml("Q4_0", q, x.length))).toBe(GOLDEN.Q4_0.values);
  });

  it("Q8_0 = quantize_row_q8_0_ref, dequantize_row_q8_0", () => {
    const q = quantizeGgml("Q8_0", x);
    expect(hex(q.subarray(0, 34))).toBe(GOLDEN.Q8_0.first);
    expect(sha256(q)).toBe(GOLDEN.Q8_0.bytes);
    expect(sha256(dequantizeGgml("Q8_0", q, x.length))).toBe(GOLDEN.Q8_0.values);
  });

  it("Q6_K = quantize_row_q6_K_ref (make_qx_quants search included), dequantize_row_q6_K", () => {
    const q = quantizeGgml("Q6_K", x);
    expect(hex(q.subarray(210, 420))).toBe(GOLDEN.Q6_K.second);
    expect(q.subarray(420).every((b) => b === 0)).toBe(true); // the all-zero block: memset 0, d = +0
    expect(sha256(q)).toBe(GOLDEN.Q6_K.bytes);
    expect(sha256(dequantizeGgml("Q6_K", q, x.length))).toBe(GOLDEN.Q6_K.values);
  });
});

describe("ggml dense types: hand-worked blocks", () => {
  it("Q8_0: x = qs·d", () => {
    const b = new Uint8Array(34);
    b[0] = 0x00;
    b[1] = 0x38; // d = 0.5
    const qs = [-128, -1, 0, 1, 127];
    qs.forEach((q, j) => (b[2 + j] = q & 0xff));
    expect([...dequantizeGgml("Q8_0", b, 32).subarray(0, 5)]).toEqual([-64, -0.5, 0, 0.5, 63.5]);
  });

  it("Q8_0 quantizes x = j − 16 with d = fp16(16/127) and q = roundf(x·127/16)", () => {
    const x = Array.from({ length: 32 }, (_, j) => j - 16);
    const q = quantizeGgml("Q8_0", x);
    expect(q[0]! | (q[1]! << 8)).toBe(0x3008); // 16/127 = 0.12598… → fp16 0.1259765625
    const codes = [...new Int8Array(q.buffer, 2, 32)];
    expect(codes.slice(0, 3)).toEqual([-127, -119, -111]); // −16·7.9375 = −127, −15·7.9375 = −119.06, −14·7.9375 = −111.1
    expect(codes[15]).toBe(-8); // −1·7.9375 → −8
    expect(codes[16]).toBe(0);
    expect(codes[31]).toBe(119); // 15·7.9375 = 119.06
    expect(dequantizeGgml("Q8_0", q, 32)[0]).toBe(-127 * 0.1259765625);
  });

  it("Q4_0: low nibbles are elements 0..15, high nibbles 16..31, value (q − 8)·d", () => {
    const b = new Uint8Array(18);
    b[0] = 0x00;
    b[1] = 0x34; // d = 0.25
    b[2] = 0x0f; // element 0: 15 → 1.75; element 16: 0 → −2
    b[3] = 0x98; // element 1: 8 → 0; element 17: 9 → 0.25
    const y = dequantizeGgml("Q4_0", b, 32);
    expect([y[0], y[16], y[1], y[17], y[2], y[18]]).toEqual([1.75, -2, 0, 0.25, -2, -2]);
  });

  it("Q4_0 quantizes with d = (largest-magnitude value)/−8: that value gets code 0", () => {
    const x = new Array(32).fill(0);
    x[5] = -4; // largest magnitude, negative: d = 0.5
    x[20] = 3.5; // 3.5/0.5 = 7 → code 15 (7 + 8)
    x[21] = 0.74; // 1.48 + 8.5 = 9.98 → 9
    const q = quantizeGgml("Q4_0", x);
    expect(halfToFloat(q[0]! | (q[1]! << 8))).toBe(0.5);
    expect(q[2 + 5]! & 0xf).toBe(0);
    expect(q[2 + 4]! >> 4).toBe(15);
    expect(q[2 + 5]! >> 4).toBe(9);
    expect(q[2 + 0]! & 0xf).toBe(8); // zeros → code 8
  });

  /** An element-by-element reading of block_q6_K, written apart from the implementation's loop. */
  function q6kElement(block: Uint8Array, e: number): number {
    const d = halfToFloat(block[208]! | (block[209]! << 8));
    const half = e >> 7;
    const r = e & 127;
    const k = r >> 5; // which quarter of the half
    const l = r & 31;
    const qlByte = block[64 * half + l + 32 * (k & 1)]!;
    const low = k < 2 ? qlByte & 0xf : qlByte >> 4;
    const high = (block[128 + 32 * half + l]! >> (2 * k)) & 3;
    const scale = (block[192 + 8 * half + (l >> 4) + 2 * k]! << 24) >> 24;
    return Math.fround(Math.fround(d * scale) * ((low | (high << 4)) - 32));
  }

  it("Q6_K: a hand-built block", () => {
    const b = new Uint8Array(210);
    b[208] = 0x00;
    b[209] = 0x3c; // d = 1
    const sc = new Int8Array(b.buffer, 192, 16);
    sc[0] = 2;
    sc[2] = -1;
    sc[4] = 3;
    sc[6] = 1;
    b[0] = 0x21; // element 0 low nibble 1, element 64 low nibble 2
    b[32] = 0x5f; // element 32 low nibble 15, element 96 low nibble 5
    b[128] = 0b11_10_01_00; // high bits: element 0 → 0, 32 → 1, 64 → 2, 96 → 3
    const y = dequantizeGgml("Q6_K", b, 256);
    expect(y[0]).toBe(2 * (1 - 32)); // −62
    expect(y[32]).toBe(-1 * (15 + 16 - 32)); // 1
    expect(y[64]).toBe(3 * (2 + 32 - 32)); // 6
    expect(y[96]).toBe(1 * (5 + 48 - 32)); // 21
    expect(y[1]).toBe(2 * -32); // ql = qh = 0 → q = −32
    expect(y[16]).toBe(-0); // scales[1] = 0: d·0·(−32) = −0, as in C
  });

  it("Q6_K: random blocks read the same element by element", () => {
    let s = 7;
    const rand = () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return (s >>> 16) & 0xff;
    };
    const bytes = Uint8Array.from({ length: 3 * 210 }, rand);
    for (let b = 0; b < 3; b++) {
      bytes[210 * b + 208] = rand();
      bytes[210 * b + 209] = rand() & 0x3b; // a finite d
    }
    const y = dequantizeGgml("Q6_K", bytes, 768);
    for (let e = 0; e < 768; e++) expect(y[e]).toBe(q6kElement(bytes.subarray(210 * (e >> 8), 210 * ((e >> 8) + 1)), e & 255));
  });
});

describe("ggml dense types: float types", () => {
  it("F32 round-trips every float32 bit pattern it is given, including −0, ±Inf and NaN", () => {
    const x = Float32Array.of(1.5, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 3.4e38, 1e-45);
    const y = dequantizeGgml("F32", quantizeGgml("F32", x), x.length);
    expect(sha256(y)).toBe(sha256(x));
  });

  it("F16 and BF16 store the nearest-even value and read it back exactly", () => {
    const x = [0.1, -2.5, 65504, 1e-7, 70000, -0];
    const h = dequantizeGgml("F16", quantizeGgml("F16", x), x.length);
    expect([...h]).toEqual(x.map((v) => halfToFloat(floatToHalf(v))));
    const b = dequantizeGgml("BF16", quantizeGgml("BF16", x), x.length);
    const bf = new Float32Array(new Uint32Array(x.map((v) => floatToBf16(v) << 16)).buffer);
    expect([...b]).toEqual([...bf]);
    expect(quantizeGgml("BF16", [1])).toEqual(Uint8Array.of(0x80, 0x3f));
    expect(quantizeGgml("F16", [1])).toEqual(Uint8Array.of(0x00, 0x3c));
  });

  it("reads F32 from an unaligned view", () => {
    const raw = new Uint8Array(9);
    raw.set(quantizeGgml("F32", [1.25, -3]), 1);
    expect([...dequantizeGgml("F32", raw.subarray(1), 2)]).toEqual([1.25, -3]);
  });
});

describe("ggml dense types: round trips", () => {
  const x = goldenInput().subarray(0, 512);

  it("Q8_0 errors stay within half a step, Q4_0's within a step; requantizing their output reproduces the bytes", () => {
    // Q4_0's codes run −8..7 with d = (signed max)/−8, so the other sign clips at 7·|d|: up to a whole step off
    for (const [name, bound] of [
      ["Q8_0", 0.57 / 127], // half a step, plus 127 times the fp16 rounding of d (≤ d·2^−11)
      ["Q4_0", 1.01 / 8],
    ] as const) {
      const q = quantizeGgml(name, x);
      const y = dequantizeGgml(name, q, x.length);
      for (let b = 0; b < x.length / 32; b++) {
        let amax = 0;
        for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]!));
        for (let j = 0; j < 32; j++) expect(Math.abs(y[32 * b + j]! - x[32 * b + j]!)).toBeLessThanOrEqual(amax * bound);
      }
      expect(quantizeGgml(name, y)).toEqual(q);
    }
  });

  it("Q6_K keeps every error within 1/60 of its block's largest magnitude", () => {
    // 8-bit sub-scales relative to the block's: a sub-block 2^15 times smaller than the block's largest quantizes
    // to zero in ggml too (the golden block above has eight such sub-blocks)
    const y = dequantizeGgml("Q6_K", quantizeGgml("Q6_K", x), x.length);
    for (let b = 0; b < 2; b++) {
      let blockMax = 0;
      for (let j = 0; j < 256; j++) blockMax = Math.max(blockMax, Math.abs(x[256 * b + j]!));
      for (let j = 0; j < 256; j++) expect(Math.abs(y[256 * b + j]! - x[256 * b + j]!)).toBeLessThanOrEqual(blockMax / 60);
    }
  });
});

describe("dequantizeRows", () => {
  const x = goldenInput().subarray(0, 512);
  for (const t of GGML_DENSE_TYPES) {
    it(`${t.name}: any row range equals the same rows of the whole tensor`, () => {
      const cols = 256;
      const rows = 2;
      const q = quantizeGgml(t.name, x);
      const all = dequantizeGgml(t.name, q, rows * cols);
      expect(dequantizeRows(t.name, q, rows, cols, 1, 1)).toEqual(all.subarray(cols, 2 * cols));
      expect(dequantizeRows(t.name, q, rows, cols, 0, 2)).toEqual(all);
      expect(dequantizeRows(t.name, q, rows, cols, 2, 0)).toEqual(new Float32Array(0));
    });
  }

  it("refuses rows outside the tensor, a wrong byte count and a row off the block grid", () => {
    const q = quantizeGgml("Q8_0", x);
    expect(() => dequantizeRows("Q8_0", q, 2, 256, 1, 2)).toThrow(/2 rows from row 1 are outside the tensor's 2 rows/);
    expect(() => dequantizeRows("Q8_0", q, 3, 256, 0, 1)).toThrow(/has 544 bytes, expected 816/);
    expect(() => dequantizeRows("Q8_0", q, 32, 16, 0, 1)).toThrow(/cols: element count 16 is not a non-negative multiple of Q8_0's block size 32/);
    expect(() => dequantizeRows("Q8_0", q, 0, 256, 0, 0)).toThrow(/two positive integers/);
  });
});
