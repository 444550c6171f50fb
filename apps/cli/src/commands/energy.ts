import { loadModelSource } from "../util/load-model";
import { defineOptions } from "../util/options";
import { defineCommand } from "./command";

export const energyCommand = defineCommand({
  name: "energy",
  description: "arithmetic energy of the block projections per token (BitNet arXiv 2310.11453 energy table) against an fp16 model of the same shape",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder, onebit checkpoint folder or preset name (default bitnet-b1.58-2B-4T)" }],
  options: defineOptions({ tokens: { kind: "int", min: 1, arg: "<n>", default: 1, description: "tokens processed" } }),
  async run({ args, options }) {
    const { estimateEnergy, parseModelSpec, presetByName, PRESET_NAMES } = await import("@onebit/model");
    const source = args[0] ?? "bitnet-b1.58-2B-4T";
    const spec = PRESET_NAMES.includes(source) ? presetByName(source) : (await loadModelSource(source)).spec;
    const tokens = options.tokens;
    const fmt = (pj: number) => (pj >= 1e9 ? `${(pj / 1e9).toFixed(3)} mJ` : pj >= 1e6 ? `${(pj / 1e6).toFixed(3)} µJ` : `${(pj / 1e3).toFixed(3)} nJ`);
    process.stdout.write(`${source}: ${spec.onebit.variant}, ${estimateEnergy(spec).macsPerToken.toLocaleString("en-US")} projection MACs per token, ${tokens} token(s)\n\n`);
    process.stdout.write(`${"node".padEnd(6)}${"1-bit (INT8 adds)".padStart(20)}${"fp16 (mul + add)".padStart(20)}${"saving".padStart(10)}\n`);
    for (const node of ["45nm", "7nm"] as const) {
      const e = estimateEnergy(parseModelSpec(spec), tokens, node);
      process.stdout.write(`${node.padEnd(6)}${fmt(e.onebitPicojoules).padStart(20)}${fmt(e.fp16Picojoules).padStart(20)}${`${e.saving.toFixed(1)}×`.padStart(10)}\n`);
    }
    process.stdout.write("\n(matrix-multiplication arithmetic only, as in the BitNet paper; attention scores, norms and memory traffic are not counted)\n");
  },
});
