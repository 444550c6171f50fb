/**
 * The decode test's model and expectations, shared by the page (webgpu-decode-page.ts) and the test
 * (webgpu-decode.test.ts): webgpu-decode-fixture.json's format (float32 tensors and packed BitLinear weights, base64),
 * the prompts (counting sequences of steps 3, 7 and 1 mod 32), the KV cache precisions, and the report the page
 * hands back.
 */
import type { PackedLinearWeight } from "@onebit/kernels";
import type { KvBits } from "@onebit/kv";
import type { ModelSpec } from "../model-spec";
import type { ModelWeights } from "../transformer";

export interface FixtureTensor {
  f32?: string;
  kind?: "ternary" | "binary";
  outFeatures?: number;
  inFeatures?: number;
  scaleAxis?: PackedLinearWeight["scaleAxis"];
  data?: string;
  scales?: string;
}

export interface DecodeFixture {
  spec: ModelSpec;
  weights: Record<string, FixtureTensor>;
}

export interface DecodeRun {
  backend: string;
  lmHead: "f32" | "int8";
  kvBits: KvBits;
  /** a4.8's 4-bit queries (the "4-bit QKV" runs). */
  queryBits?: 4;
  prompt: number[];
  tokens: number[];
  ms: number;
}

export interface DecodeReport {
  available: boolean;
  reason?: string;
  runs: DecodeRun[];
  /** max |logit(webgpu) − logit(wasm)| over the prompt's logits, per LM head format (and KV precision), and max |logit| for scale */
  logitDiff: Record<string, { maxDiff: number; maxLogit: number }>;
  /** Native calls of webgpu's KV-cache kernels over the whole run (quantizeUnsignedInto, dequantizeUnsigned, encodeHalf, decodeHalf). */
  kvKernelCalls: Record<string, number>;
  fatal?: string;
}

export const PROMPTS = [
  [0, 3, 6, 9],
  [4, 11, 18],
  [30, 31, 0, 1, 2],
];
export const NEW_TOKENS = 16;
/** KV cache precisions decoded on both backends (with the f32 LM head; the int8 head runs with an f32 cache). */
export const KV_BITS: readonly KvBits[] = [32, 16, 8, 4, 3];

const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

export function fixtureWeights(f: DecodeFixture): ModelWeights {
  const weights: ModelWeights = new Map();
  for (const [name, t] of Object.entries(f.weights)) {
    if (t.f32 !== undefined) weights.set(name, new Float32Array(bytes(t.f32).buffer));
    else
      weights.set(name, {
        kind: t.kind!,
        outFeatures: t.outFeatures!,
        inFeatures: t.inFeatures!,
        scaleAxis: t.scaleAxis!,
        data: bytes(t.data!),
        scales: new Float32Array(bytes(t.scales!).buffer),
      });
  }
  return weights;
}

