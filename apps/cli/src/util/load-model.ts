/**
 * Where a command's model comes from: a `.gguf` file (llama.cpp, bitnet.cpp, onebit), a Hugging Face folder
 * (BitNetForCausalLM, LlamaForCausalLM), a onebit checkpoint folder (as `onebit train` writes), or a preset name
 * (random weights: for speed, memory and energy questions only). Failures are CliErrors that name the file and
 * the field or the accepted values.
 */
import { existsSync } from "node:fs";
import type { Backend } from "@onebit/kernels";
import type { Architecture, ModelSpec, ModelWeights, OpenedModel, Tokenizer, Transformer } from "@onebit/model";
import { CliError } from "./cli-error";
import { defineOptions } from "./options";
import { ProgressBar } from "./progress-bar";
import { collectGarbage } from "./collect-garbage";

/**
 * The kernels' BACKENDS table by name (kept here as a literal so `--help` does not load @onebit/kernels; a test
 * checks the two agree). One that cannot run here (webgl, webgpu in Node) fails when chosen, naming the available ones.
 */
export const BACKENDS = ["wasm", "js", "webgl", "webgpu"] as const;

export interface LoadedModel {
  source: string;
  spec: ModelSpec;
  weights: ModelWeights;
  tokenizer?: Tokenizer;
  /** true when the weights are random (a preset, not a trained checkpoint) */
  random: boolean;
  /** How the file was read (absent for presets). */
  opened?: OpenedModel;
  architecture?: Architecture;
}

/** Open a model path (or a preset); a progress bar on stderr while its tensors load; notes printed to stderr. */
export async function loadModelSource(source: string, seed = 1, options: { quiet?: boolean } = {}): Promise<LoadedModel> {
  const model = await import("@onebit/model");
  if (!existsSync(source)) {
    if (model.PRESET_NAMES.includes(source)) {
      const spec = model.presetByName(source);
      return { source, spec, weights: model.randomPackedWeights(spec, seed), random: true };
    }
    throw new CliError(`model "${source}": no such file or folder, and not a preset (presets: ${model.PRESET_NAMES.join(", ")})`);
  }
  let bar: ProgressBar | undefined;
  let opened: OpenedModel;
  const t0 = performance.now();
  try {
    opened = await model.openModel(source, {
      onProgress: (done, total) => {
        // a bar only for loads that take a while (a 2B4T file: seconds; a tiny checkpoint: milliseconds)
        if (options.quiet || (!bar && performance.now() - t0 < 500)) return;
        bar ??= new ProgressBar({ total, label: "load", stream: process.stderr });
        bar.update(done);
      },
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  } finally {
    bar?.finish();
  }
  if (!options.quiet) for (const note of opened.notes) process.stderr.write(`note: ${note}\n`);
  return { source, spec: opened.spec, weights: opened.weights, tokenizer: opened.tokenizer, random: false, opened, architecture: opened.architecture };
}

export async function openBackend(name: string, threads?: number): Promise<Backend> {
  const { createBackend } = await import("@onebit/kernels");
  try {
    return await createBackend(name, threads ? { threads } : {});
  } catch (e) {
    throw new CliError(`backend: ${(e as Error).message}`);
  }
}

export const LM_HEAD_FORMATS = ["f32", "int8", "int4"] as const;
export type LmHeadFormat = (typeof LM_HEAD_FORMATS)[number];

/**
 * `lmHead`: the LM head's storage (a tied embedding is looked up from it): "f32" (exact), "int8" (W8A16, a
 * quarter of f32's bytes) or "int4" (4.25 bits per weight, under a seventh of f32's bytes; the fastest decode).
 */
export async function buildTransformer(m: LoadedModel, backend: Backend, lmHead: LmHeadFormat = "int4", options: { releaseWeights?: boolean } = {}): Promise<Transformer> {
  const { Transformer } = await import("@onebit/model");
  const model = new Transformer(m.spec, m.weights, { backend, lmHead, releaseWeights: options.releaseWeights });
  // the released copies are garbage now; collect them before decoding runs at the loader's peak (collect-garbage.ts)
  if (options.releaseWeights) collectGarbage();
  return model;
}

export function requireTokenizer(m: LoadedModel): Tokenizer {
  if (!m.tokenizer) throw new CliError(`${m.source}: ${m.random ? "a preset's random weights have no tokenizer; give a trained checkpoint, a .gguf file or a Hugging Face folder" : "has no tokenizer (tokenizer.json or tokenizer.ggml.*), so it cannot read text"}`);
  return m.tokenizer;
}

/** Common options of commands that run a model. */
export const runOptions = defineOptions({
  backend: { kind: "choice", choices: BACKENDS, default: "wasm", arg: "<name>", description: "kernel backend" },
  threads: { kind: "int", min: 1, max: 256, arg: "<n>", description: "wasm threads (default: all cores)" },
  lmHead: {
    kind: "choice",
    choices: LM_HEAD_FORMATS,
    default: "int4",
    arg: "<format>",
    description:
      "LM head storage (a tied embedding is read from it): int4 (4.25 bits per weight, the fastest; +0.5 % perplexity on the shipped tiny model), int8 (W8A16, +0.02 %) or f32 (exact)",
  },
});
