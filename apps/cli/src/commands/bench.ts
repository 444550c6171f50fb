import type { PackedLinearWeight, QuantizedActivations } from "@onebit/kernels";
import type { Transformer } from "@onebit/model";
import { buildTransformer, LM_HEAD_FORMATS, type LoadedModel, loadModelSource, openBackend } from "../util/load-model";
import { checkArrayLength, checkContext, checkMemory, kernelBenchBytes, parseIntList, parseShape } from "../util/usage-limits";
import { CliError } from "../util/cli-error";
import { defineOptions } from "../util/options";
import { defineCommand } from "./command";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Thread counts beyond this are typos: wasm threads are OS threads, each with its own stack. */
const MAX_THREADS = 256;

/**
 * Every flag checked before the first table is printed: the kernel shape and token counts against this machine's
 * memory, the model benchmark's prompt and decode steps against the model's context.
 */
export function checkKernelSizes(shape: string, tokens: string, limit?: number): { outF: number; inF: number; tokenCounts: number[] } {
  const [outF, inF] = parseShape("--shape", shape);
  const tokenCounts = parseIntList("--tokens", tokens);
  const maxTokens = Math.max(...tokenCounts);
  checkArrayLength(`--shape ${shape}`, outF * inF, "the weight matrix");
  checkArrayLength(`--tokens ${maxTokens}`, maxTokens * Math.max(inF, outF), "the activations");
  checkMemory(`--shape ${shape} with --tokens ${maxTokens}`, kernelBenchBytes(outF, inF, maxTokens), `a ${outF}×${inF} ternary weight and ${maxTokens} tokens of activations`, limit);
  return { outF, inF, tokenCounts };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * `onebit bench`: the kernel benchmark (ternary BitLinear, js reference as the in-process baseline, wasm at each
 * thread count) and the model benchmark (prefill/decode tokens/s of a preset with random weights or a checkpoint).
 * The full comparison against tfjs-wasm f32 is `pnpm bench:kernels` in a source checkout.
 */
export const benchCommand = defineCommand({
  name: "bench",
  description: "kernel and model benchmarks (µs/op, GB/s, GFLOP/s, tokens/s) on this machine",
  options: defineOptions({
    shape: { kind: "string", arg: "<out>x<in>", default: "2560x6912", description: "kernel weight shape" },
    tokens: { kind: "string", arg: "<list>", default: "1,32", description: "kernel token counts" },
    threads: { kind: "string", arg: "<list>", default: "1,2", description: "wasm thread counts" },
    repeats: { kind: "int", min: 1, arg: "<n>", default: 15, description: "timed repeats (median reported)" },
    model: { kind: "string", arg: "<model>", default: "b1.58-small", description: "model for the model benchmark: a preset (random weights), .gguf file, Hugging Face folder or onebit checkpoint folder" },
    promptTokens: { kind: "int", min: 1, arg: "<n>", default: 64, description: "prefill prompt length" },
    decodeTokens: { kind: "int", min: 1, arg: "<n>", default: 16, description: "decode steps" },
    decodeContext: {
      kind: "choice",
      choices: ["after-prompt", "empty"],
      default: "after-prompt",
      arg: "<where>",
      description: "where the decode steps start: after the prompt, or from an empty context (position 0, as llama-bench -n)",
    },
    lmHead: { kind: "choice", choices: LM_HEAD_FORMATS, default: "int4", arg: "<format>", description: "LM head storage for the model benchmark (int4, int8 or f32; int4 is generate's default)" },
    warmupSteps: {
      kind: "int",
      min: 0,
      arg: "<n>",
      default: 64,
      description: "untimed decode steps (after a 4-token prompt), then one untimed prompt of --prompt-tokens, before the model benchmark is timed: V8 optimises a step's JavaScript over the first ≈ 40 steps, and llama-bench warms up the same way (0: none)",
    },
    only: { kind: "choice", choices: ["kernels", "model", "all"], default: "all", arg: "<which>", description: "which benchmarks to run" },
    json: {
      kind: "boolean",
      default: false,
      description: "with --only model and one --threads count: print one JSON object {prefill_tok_s, decode_tok_s, rss_bytes, load_s, threads, lm_head, weights_bytes_per_token}",
    },
  }),
  async run({ options }) {
    const out = (s: string) => process.stdout.write(s);
    const { only, repeats, json } = options;
    const threadCounts = parseIntList("--threads", options.threads, MAX_THREADS);
    const kernel = only !== "model" ? checkKernelSizes(options.shape, options.tokens) : undefined;
    let src: LoadedModel | undefined;
    if (json && (only !== "model" || threadCounts.length !== 1)) throw new CliError("--json: give --only model and a single --threads count", 2);
    let loadSeconds = 0;
    // the warm-up run: its own cache, within the model's context; then the timed prompt's length once, untimed, as
    // llama-bench warms up (a fresh backend's first long prompt pages in its workspace and scratch: ≈ 5 % slower)
    const warmUp = (model: Transformer, benchmarkModel: typeof import("@onebit/model").benchmarkModel) => {
      const steps = Math.min(options.warmupSteps, model.spec.max_position_embeddings - 4);
      if (steps <= 0) return;
      benchmarkModel(model, { promptTokens: 4, decodeTokens: steps });
      if (options.promptTokens > 4) benchmarkModel(model, { promptTokens: options.promptTokens, decodeTokens: 1 });
    };
    if (only !== "kernels") {
      // the model is opened first so its context is known before the kernel table prints
      await import("@onebit/model"); // load_s times the file, not the module import
      const t0 = performance.now();
      src = await loadModelSource(options.model, 1, { quiet: json });
      loadSeconds = (performance.now() - t0) / 1000;
      const { promptTokens: prompt, decodeTokens: decode } = options;
      checkContext(`--prompt-tokens ${prompt} + --decode-tokens ${decode}`, prompt + decode, src.spec, `${prompt + decode} tokens`);
    }
    if (kernel) {
      const { outF, inF } = kernel;
      const { packTernaryT2 } = await import("@onebit/quant");
      const codes = Int8Array.from({ length: outF * inF }, (_, i) => (((i * 2654435761) >>> 0) % 3) - 1);
      const weight: PackedLinearWeight = { kind: "ternary", outFeatures: outF, inFeatures: inF, data: packTernaryT2(codes, outF, inF), scales: Float32Array.of(0.02), scaleAxis: "tensor" };
      const rows: string[][] = [];
      for (const tokens of kernel.tokenCounts) {
        const acts: QuantizedActivations = { tokens, features: inF, codes: Int8Array.from({ length: tokens * inF }, (_, i) => ((i * 2246822519) >>> 24) - 128), scales: new Float32Array(tokens).fill(0.01), groups: 1, bits: 8 };
        let baseUs = 0;
        for (const [name, threads] of [["js", 1], ...threadCounts.map((t) => ["wasm", t] as const)] as Array<[string, number]>) {
          const backend = await openBackend(name, name === "wasm" ? threads : undefined);
          const prepared = backend.prepareWeight({ weight });
          backend.bitLinear({ weight: prepared, input: acts });
          const times: number[] = [];
          for (let r = 0; r < (name === "js" ? Math.min(3, repeats) : repeats); r++) {
            const t0 = performance.now();
            backend.bitLinear({ weight: prepared, input: acts });
            times.push((performance.now() - t0) * 1000);
          }
          backend.dispose();
          const us = median(times);
          if (name === "js") baseUs = us;
          rows.push([`${outF}×${inF}`, String(tokens), name, String(name === "js" ? 1 : threads), us.toFixed(0), (prepared.bytes / (us * 1e3)).toFixed(2), ((2 * outF * inF * tokens) / (us * 1e3)).toFixed(1), `${(baseUs / us).toFixed(1)}×`]);
        }
      }
      out(`kernels: ternary BitLinear (onebit-t2 weights × int8 activations), median of ${repeats}; baseline = js reference\n${table(["shape", "N", "backend", "threads", "µs/op", "weight GB/s", "GFLOP/s-eq", "× js"], rows)}\n\n`);
    }
    if (src && json) {
      const { benchmarkModel, runtimeReport } = await import("@onebit/model");
      const threads = threadCounts[0]!;
      const backend = await openBackend("wasm", threads);
      try {
        // load_s = open + place on the backend: the time until the model can run, as llama.cpp's load time counts
        const t0 = performance.now();
        const model = await buildTransformer(src, backend, options.lmHead, { releaseWeights: true });
        loadSeconds += (performance.now() - t0) / 1000;
        warmUp(model, benchmarkModel);
        const r = benchmarkModel(model, { promptTokens: options.promptTokens, decodeTokens: options.decodeTokens, decodeContext: options.decodeContext });
        const mem = runtimeReport(model).memory;
        // a decode step reads every projection once and the whole LM head
        const head = mem.lmHead;
        const result = {
          model: src.source,
          prefill_tok_s: r.prefillTokensPerSecond,
          decode_tok_s: r.decodeTokensPerSecond,
          rss_bytes: r.residentBytes,
          load_s: loadSeconds,
          threads,
          lm_head: options.lmHead,
          weights_bytes_per_token: mem.attention + mem.ffn + head,
          prompt_tokens: r.promptTokens,
          decode_tokens: r.decodeTokens,
          decode_context: options.decodeContext,
        };
        out(`${JSON.stringify(result)}\n`);
      } finally {
        backend.dispose();
      }
      return;
    }
    if (src) {
      const { benchmarkModel, parameterCounts } = await import("@onebit/model");
      const rows: string[][] = [];
      let base = 0;
      for (const threads of threadCounts) {
        const backend = await openBackend("wasm", threads);
        try {
          const model = await buildTransformer(src, backend, options.lmHead);
          warmUp(model, benchmarkModel);
          const r = benchmarkModel(model, { promptTokens: options.promptTokens, decodeTokens: options.decodeTokens, decodeContext: options.decodeContext });
          if (!base) base = r.decodeTokensPerSecond;
          rows.push([String(threads), r.prefillTokensPerSecond.toFixed(1), r.decodeMsMedian.toFixed(2), r.decodeTokensPerSecond.toFixed(1), `${(r.decodeTokensPerSecond / base).toFixed(2)}×`, (r.residentBytes / 2 ** 20).toFixed(0)]);
        } finally {
          backend.dispose();
        }
      }
      out(`model: ${src.source} (${(parameterCounts(src.spec).total / 1e6).toFixed(1)}M parameters, ${src.spec.onebit.variant}, ${options.lmHead} LM head), prompt ${options.promptTokens}, ${options.decodeTokens} decode steps ${options.decodeContext === "empty" ? "from an empty context" : "after it"}\n${table(["threads", "prefill tok/s", "decode ms/tok", "decode tok/s", "vs first", "RSS MB"], rows)}\n`);
    }
  },
});
