import { CliError } from "../util/cli-error";
import { loadModelSource } from "../util/load-model";
import { ProgressBar } from "../util/progress-bar";
import { defineOptions } from "../util/options";
import { defineCommand } from "./command";

/** --dense-dtype's lower-case choices → the dtype names the Hugging Face writer takes. */
const DENSE_DTYPES = { f32: "F32", bf16: "BF16" } as const;

/** `onebit convert <input> <output>`: any model onebit opens → .gguf, a Hugging Face folder or a onebit folder. */
export const convertCommand = defineCommand({
  name: "convert",
  description: "convert a model (.gguf, Hugging Face folder, onebit folder) to a .gguf for llama.cpp/bitnet.cpp, a Hugging Face folder for transformers, or a onebit folder",
  args: [
    { name: "input", description: ".gguf file, Hugging Face folder or onebit checkpoint folder", required: true },
    { name: "output", description: "output .gguf file or folder", required: true },
  ],
  options: defineOptions({
    to: { kind: "choice", choices: ["gguf", "hf", "onebit"], arg: "<format>", description: "output format (default: gguf for a *.gguf output, else onebit)" },
    type: { kind: "choice", choices: ["tq2_0", "tq1_0", "i2_s"], default: "tq2_0", arg: "<type>", description: "GGUF projection type: tq2_0 / tq1_0 (llama.cpp) or i2_s (bitnet.cpp)" },
    embeddingType: { kind: "choice", choices: ["f32", "f16", "bf16", "q8_0", "q6_k", "q4_0"], default: "f32", arg: "<type>", description: "GGUF storage of a float token embedding (f32: exact; a table the input kept quantized keeps its type)" },
    denseDtype: { kind: "choice", choices: ["f32", "bf16"], default: "f32", arg: "<dtype>", description: "Hugging Face dense tensors: f32 (exact) or bf16 (as microsoft/bitnet-b1.58-2B-4T ships)" },
    name: { kind: "string", arg: "<text>", description: "GGUF general.name" },
    force: { kind: "boolean", default: false, description: "replace an existing output .gguf file" },
  }),
  async run({ args, options }) {
    const [input, output] = args;
    const to = options.to ?? (output.toLowerCase().endsWith(".gguf") ? "gguf" : "onebit");
    const m = await loadModelSource(input);
    if (m.random || !m.opened) throw new CliError(`${input}: a preset has random weights; convert a trained model (a folder or a .gguf)`);
    const { convertModel } = await import("@onebit/model");
    const t0 = performance.now();
    let r: Awaited<ReturnType<typeof convertModel>>;
    // a bar (in MiB) once the write has taken half a second: a 2B4T file takes seconds, a tiny model milliseconds
    let bar: ProgressBar | undefined;
    const MiB = 1 << 20;
    let writtenMiB = 0;
    const onProgress = (written: number, total: number) => {
      writtenMiB = written === total ? Math.ceil(total / MiB) : Math.floor(written / MiB);
      if (!bar && performance.now() - t0 < 500) return;
      bar ??= new ProgressBar({ total: Math.ceil(total / MiB), label: "write MiB", stream: process.stderr });
      bar.update(writtenMiB);
    };
    try {
      r = await convertModel(m.opened, output, {
        to,
        type: options.type,
        embeddingType: options.embeddingType,
        denseDtype: DENSE_DTYPES[options.denseDtype],
        force: options.force,
        name: options.name,
        onProgress,
      });
    } catch (e) {
      throw new CliError((e as Error).message);
    } finally {
      bar?.finish({}, writtenMiB);
    }
    for (const note of r.notes) process.stderr.write(`note: ${note}\n`);
    process.stdout.write(`wrote ${output} (${to}, architecture ${r.architecture}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  },
});
