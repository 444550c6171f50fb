/**
 * Where a command's model comes from: a checkpoint directory (config.json + model.safetensors + tokenizer.json,
 * as `onebit train` writes) or a preset name (random weights: for speed, memory and energy questions only).
 * Failures are CliErrors that name the file or the accepted values.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "@onebit/kernels";
import type { BpeTokenizer, ModelSpec, ModelWeights, Transformer } from "@onebit/model";
import { CliError } from "./cli-error";

export const BACKENDS = ["wasm", "js"] as const;

export interface LoadedModel {
  source: string;
  spec: ModelSpec;
  weights: ModelWeights;
  tokenizer?: BpeTokenizer;
  /** true when the weights are random (a preset, not a trained checkpoint) */
  random: boolean;
}

export async function loadModelSource(source: string, seed = 1): Promise<LoadedModel> {
  const model = await import("@onebit/model");
  if (existsSync(source) && statSync(source).isDirectory()) {
    if (!existsSync(join(source, "config.json"))) throw new CliError(`${source}: not a onebit checkpoint (no config.json); train one with \`onebit train --out ${source}\``);
    const ckpt = await model.loadCheckpoint(source);
    const tokenizer = ckpt.tokenizer === undefined ? undefined : model.BpeTokenizer.fromJSON(ckpt.tokenizer, join(source, "tokenizer.json"));
    return { source, spec: ckpt.spec, weights: ckpt.weights, tokenizer, random: false };
  }
  if (model.PRESET_NAMES.includes(source)) {
    const spec = model.presetByName(source);
    return { source, spec, weights: model.randomPackedWeights(spec, seed), random: true };
  }
  throw new CliError(`model "${source}": no such checkpoint directory, and not a preset (presets: ${model.PRESET_NAMES.join(", ")})`);
}

export async function openBackend(name: string, threads?: number): Promise<Backend> {
  const { createBackend } = await import("@onebit/kernels");
  try {
    return await createBackend(name, threads ? { threads } : {});
  } catch (e) {
    throw new CliError(`backend: ${(e as Error).message}`);
  }
}

export const LM_HEAD_FORMATS = ["f32", "int8"] as const;

/** `lmHead`: the LM head's storage, "f32" (exact) or "int8" (W8A16: a quarter of the bytes, faster decode). */
export async function buildTransformer(m: LoadedModel, backend: Backend, lmHead: string = "f32"): Promise<Transformer> {
  const { Transformer } = await import("@onebit/model");
  if (!(LM_HEAD_FORMATS as readonly string[]).includes(lmHead)) throw new CliError(`--lm-head: expected one of ${LM_HEAD_FORMATS.join(", ")}, got "${lmHead}"`);
  return new Transformer(m.spec, m.weights, { backend, lmHead: lmHead as (typeof LM_HEAD_FORMATS)[number] });
}

export function requireTokenizer(m: LoadedModel): BpeTokenizer {
  if (!m.tokenizer) throw new CliError(`${m.source}: has no tokenizer.json (a preset's random weights cannot read text; give a trained checkpoint directory)`);
  return m.tokenizer;
}

/** Common options of commands that run a model. */
export const runOptions = [
  { key: "backend", kind: "choice", choices: BACKENDS, default: "wasm", arg: "<name>", description: "kernel backend" },
  { key: "threads", kind: "int", min: 1, arg: "<n>", description: "wasm threads (default: all cores)" },
  {
    key: "lmHead",
    kind: "choice",
    choices: LM_HEAD_FORMATS,
    default: "f32",
    arg: "<format>",
    description: "LM head storage: f32 (exact) or int8 (W8A16, 4× fewer bytes read per token, logits within ~1 %)",
  },
] as const;
