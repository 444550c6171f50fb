/**
 * Every weight format as data (after ggml-common.h's type traits): block geometry, bits per weight, and
 * pack/unpack between bytes and {codes, scales}. `unpack(pack(x))` is the identity for every format (scales of
 * the GGUF ternary types are fp16 and round-trip when they are fp16-representable).
 */
import { assertShape, QuantInputError } from "../validate";
import { packFp4, unpackFp4 } from "./fp4-codes";
import { I2S_TAIL_BYTES, packI2S, unpackI2S } from "./gguf-i2-s";
import { packTq1_0, TQ1_0_BLOCK_BYTES, unpackTq1_0 } from "./gguf-tq1-0";
import { packTq2_0, QK_K, TQ2_0_BLOCK_BYTES, unpackTq2_0 } from "./gguf-tq2-0";
import { hfPackedRows, packHf, unpackHf } from "./hf-packed";
import { packInt4, unpackInt4 } from "./int4-nibbles";
import { b1RowBytes, packBinaryB1, unpackBinaryB1 } from "./onebit-b1";
import { packTernaryT1, T1_BLOCK, T1_BLOCK_BYTES, t1RowBytes, unpackTernaryT1 } from "./onebit-t1";
import { packTernaryT2, t2RowBytes, unpackTernaryT2 } from "./onebit-t2";

export type FormatName = "onebit-t2" | "onebit-b1" | "onebit-t1" | "tq2_0" | "tq1_0" | "i2_s" | "hf-packed" | "int4" | "fp4";

export interface CodesAndScales {
  /** [rows, cols] row-major codes: ternary −1/0/+1, binary ±1, int4 −8..7, fp4 doubled values. */
  codes: Int8Array;
  /** Scales the format stores inside its bytes (per 256-block for TQ*, one for I2_S); empty for code-only formats. */
  scales: Float32Array;
}

export interface WeightFormat {
  name: FormatName;
  description: string;
  /** Weights per block. */
  blockSize: number;
  /** Bytes per block, including a per-block scale where the format stores one. */
  bytesPerBlock: number;
  /** bytesPerBlock·8 / blockSize (per-tensor tails such as I2_S's 32 bytes are not included). */
  bitsPerWeight: number;
  /** Inclusive code range. */
  codeRange: readonly [number, number];
  /** Where the block runs: "row" (each row padded to whole blocks), "tensor" (a flat sweep), "column" (HF). */
  blocking: "row" | "tensor" | "column";
  /** Number of scales stored inside the bytes. */
  scaleCount(rows: number, cols: number): number;
  byteLength(rows: number, cols: number): number;
  pack(data: CodesAndScales, rows: number, cols: number): Uint8Array;
  unpack(bytes: Uint8Array, rows: number, cols: number): CodesAndScales;
}

const NO_SCALES = new Float32Array(0);

function flatBlocks(name: string, rows: number, cols: number, block: number): number {
  assertShape(`${name} shape`, [rows, cols]);
  const n = rows * cols;
  if (n % block !== 0)
    throw new QuantInputError(`${name}: ${rows}×${cols} = ${n} weights is not a multiple of the block size ${block}`);
  return n / block;
}

export const FORMATS: readonly WeightFormat[] = [
  {
    name: "onebit-t2",
    description: "onebit 2-bit ternary, rows padded to 64, SIMD-friendly interleave (kernels read this)",
    blockSize: 64,
    bytesPerBlock: 16,
    bitsPerWeight: 2,
    codeRange: [-1, 1],
    blocking: "row",
    scaleCount: () => 0,
    byteLength: (rows, cols) => rows * t2RowBytes(cols),
    pack: (d, rows, cols) => packTernaryT2(d.codes, rows, cols),
    unpack: (b, rows, cols) => ({ codes: unpackTernaryT2(b, rows, cols), scales: NO_SCALES }),
  },
  {
    name: "onebit-b1",
    description: "onebit 1-bit binary (BitNet), rows padded to 128, bit k of byte j = weight 16k+j",
    blockSize: 128,
    bytesPerBlock: 16,
    bitsPerWeight: 1,
    codeRange: [-1, 1],
    blocking: "row",
    scaleCount: () => 0,
    byteLength: (rows, cols) => rows * b1RowBytes(cols),
    pack: (d, rows, cols) => packBinaryB1(d.codes, rows, cols),
    unpack: (b, rows, cols) => ({ codes: unpackBinaryB1(b, rows, cols), scales: NO_SCALES }),
  },
  {
    name: "onebit-t1",
    description: "onebit 1.6-bit ternary, rows padded to 80, 5 base-3 digits per byte (TQ1_0's byte mapping)",
    blockSize: T1_BLOCK,
    bytesPerBlock: T1_BLOCK_BYTES,
    bitsPerWeight: (T1_BLOCK_BYTES * 8) / T1_BLOCK,
    codeRange: [-1, 1],
    blocking: "row",
    scaleCount: () => 0,
    byteLength: (rows, cols) => rows * t1RowBytes(cols),
    pack: (d, rows, cols) => packTernaryT1(d.codes, rows, cols),
    unpack: (b, rows, cols) => ({ codes: unpackTernaryT1(b, rows, cols), scales: NO_SCALES }),
  },
  {
    name: "tq2_0",
    description: "GGUF TQ2_0 (llama.cpp): 256 weights, 64 bytes of 2-bit codes + fp16 absmax scale",
    blockSize: QK_K,
    bytesPerBlock: TQ2_0_BLOCK_BYTES,
    bitsPerWeight: (TQ2_0_BLOCK_BYTES * 8) / QK_K,
    codeRange: [-1, 1],
    blocking: "tensor",
    scaleCount: (rows, cols) => flatBlocks("tq2_0", rows, cols, QK_K),
    byteLength: (rows, cols) => flatBlocks("tq2_0", rows, cols, QK_K) * TQ2_0_BLOCK_BYTES,
    pack: (d, rows, cols) => {
      flatBlocks("tq2_0", rows, cols, QK_K);
      return packTq2_0(d.codes, d.scales);
    },
    unpack: (b, rows, cols) => unpackTq2_0(b, flatBlocks("tq2_0", rows, cols, QK_K) * QK_K),
  },
  {
    name: "tq1_0",
    description: "GGUF TQ1_0 (llama.cpp): 256 weights in base-3 digits (5 per byte) + fp16 absmax scale",
    blockSize: QK_K,
    bytesPerBlock: TQ1_0_BLOCK_BYTES,
    bitsPerWeight: (TQ1_0_BLOCK_BYTES * 8) / QK_K,
    codeRange: [-1, 1],
    blocking: "tensor",
    scaleCount: (rows, cols) => flatBlocks("tq1_0", rows, cols, QK_K),
    byteLength: (rows, cols) => flatBlocks("tq1_0", rows, cols, QK_K) * TQ1_0_BLOCK_BYTES,
    pack: (d, rows, cols) => {
      flatBlocks("tq1_0", rows, cols, QK_K);
      return packTq1_0(d.codes, d.scales);
    },
    unpack: (b, rows, cols) => unpackTq1_0(b, flatBlocks("tq1_0", rows, cols, QK_K) * QK_K),
  },
  {
    name: "i2_s",
    description: "GGUF I2_S (bitnet.cpp, type 36): 128-weight blocks of 2-bit codes + one f32 scale in a 32-byte tail",
    blockSize: 128,
    bytesPerBlock: 32,
    bitsPerWeight: 2,
    codeRange: [-1, 1],
    blocking: "tensor",
    scaleCount: () => 1,
    byteLength: (rows, cols) => flatBlocks("i2_s", rows, cols, 128) * 32 + I2S_TAIL_BYTES,
    pack: (d, rows, cols) => {
      flatBlocks("i2_s", rows, cols, 128);
      if (d.scales.length !== 1) throw new QuantInputError(`i2_s pack scales: has ${d.scales.length} scales, expected 1`);
      return packI2S(d.codes, d.scales[0]!);
    },
    unpack: (b, rows, cols) => {
      const { codes, scale } = unpackI2S(b, flatBlocks("i2_s", rows, cols, 128) * 128);
      return { codes, scales: Float32Array.of(scale) };
    },
  },
  {
    name: "hf-packed",
    description: "Hugging Face bitnet-b1.58 uint8 [out/4, in], packed along the output dimension (weight_scale separate)",
    blockSize: 4,
    bytesPerBlock: 1,
    bitsPerWeight: 2,
    codeRange: [-1, 1],
    blocking: "column",
    scaleCount: () => 0,
    byteLength: (rows, cols) => hfPackedRows(rows) * cols,
    pack: (d, rows, cols) => packHf(d.codes, rows, cols),
    unpack: (b, rows, cols) => ({ codes: unpackHf(b, rows, cols), scales: NO_SCALES }),
  },
  {
    name: "int4",
    description: "INT4 nibbles, two's complement −8..7, element 2i in the low nibble",
    blockSize: 2,
    bytesPerBlock: 1,
    bitsPerWeight: 4,
    codeRange: [-8, 7],
    blocking: "tensor",
    scaleCount: () => 0,
    byteLength: (rows, cols) => Math.ceil((rows * cols) / 2),
    pack: (d) => packInt4(d.codes),
    unpack: (b, rows, cols) => ({ codes: unpackInt4(b, rows * cols), scales: NO_SCALES }),
  },
  {
    name: "fp4",
    description: "FP4 E2M1 codes (sign|exp2|mant1), two per byte; codes given as doubled values ±{0..12}",
    blockSize: 2,
    bytesPerBlock: 1,
    bitsPerWeight: 4,
    codeRange: [-12, 12],
    blocking: "tensor",
    scaleCount: () => 0,
    byteLength: (rows, cols) => Math.ceil((rows * cols) / 2),
    pack: (d) => packFp4(d.codes),
    unpack: (b, rows, cols) => ({ codes: unpackFp4(b, rows * cols), scales: NO_SCALES }),
  },
];

export function getFormat(name: string): WeightFormat {
  const f = FORMATS.find((x) => x.name === name);
  if (!f) throw new QuantInputError(`unknown weight format "${name}"; available: ${FORMATS.map((x) => x.name).join(", ")}`);
  return f;
}

