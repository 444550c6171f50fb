import { writeFileSync, renameSync } from "node:fs";
import type { Projection } from "@onebit/layers";
import { histogram, type Histogram } from "../charts/histogram";
import { pngHistograms } from "../charts/png-chart";
import { svgHistograms } from "../charts/svg-chart";
import { terminalHistogram } from "../charts/terminal-chart";
import { CliError } from "../util/cli-error";
import { buildTransformer, loadModelSource, openBackend } from "../util/load-model";
import { defineOptions } from "../util/options";
import { defineCommand } from "./command";

const PROJECTIONS: Projection[] = ["q", "k", "v", "o", "gate", "up", "down"];
const SAMPLE_TEXT =
  "The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise and thanks of the City of Atlanta for the manner in which the election was conducted.";

function writeAtomic(path: string, data: string | Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export const inspectCommand = defineCommand({
  name: "inspect",
  description: "a model's spec, parameters and bytes per component, bits per weight, activation sparsity and histograms",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder, onebit checkpoint folder, or a preset name (random weights); not needed with --backends" }],
  options: defineOptions({
    backends: { kind: "boolean", default: false, description: "list every kernel backend: whether it runs here, and each kernel's source (native, borrowed from the reference, unsupported) with call counts" },
    text: { kind: "string", arg: "<text>", description: "text to run for sparsity and histograms (default: a Brown sentence; random ids without a tokenizer)" },
    layer: { kind: "int", min: 0, arg: "<n>", default: 0, description: "layer whose projection inputs are charted" },
    bins: { kind: "int", min: 2, max: 200, arg: "<n>", default: 40, description: "histogram bins" },
    png: { kind: "string", arg: "<file.png>", description: "also write the histograms as a PNG" },
    svg: { kind: "string", arg: "<file.svg>", description: "also write the histograms as an SVG (with titles)" },
  }),
  async run({ args, options }) {
    const out = (s: string) => process.stdout.write(s);
    if (options.backends) {
      const { backendReports, formatBackendReports } = await import("../util/backend-report");
      out(formatBackendReports(await backendReports()));
      if (args[0] === undefined) return;
    }
    if (args[0] === undefined) throw new CliError("inspect: give a model (a .gguf file, a Hugging Face folder, a onebit folder or a preset name), or --backends", 2);
    const { parameterCounts, runtimeReport, tensorList, numel } = await import("@onebit/model");
    const m = await loadModelSource(args[0]);
    const spec = m.spec;
    const layer = options.layer;
    if (layer >= spec.num_hidden_layers) throw new CliError(`--layer: ${layer} is not a layer of this model (0..${spec.num_hidden_layers - 1})`, 2);
    const o = spec.onebit;
    out(
      `${m.source}${m.random ? " (preset, random weights)" : ` (${m.opened!.format} file, architecture ${m.architecture!.id}${m.opened!.format === "gguf" ? `, general.architecture ${m.architecture!.gguf!.arch}` : ""})`}\n` +
        `  variant ${o.variant} · groups ${o.groups} · sub-norm ${o.sub_norm ? "yes" : "no"} · ${o.norm}norm · rope ${o.rope_style} · eps ${o.eps_mode}\n` +
        `  vocab ${spec.vocab_size} · hidden ${spec.hidden_size} · ffn ${spec.intermediate_size} (${spec.hidden_act}) · layers ${spec.num_hidden_layers} · heads ${spec.num_attention_heads}/${spec.num_key_value_heads} kv × ${spec.head_dim} · context ${spec.max_position_embeddings}\n\n`,
    );
    const backend = await openBackend("js");
    try {
      const model = await buildTransformer(m, backend);
      // parameters and stored bytes per projection kind / component
      const params = new Map<string, number>();
      for (const t of tensorList(spec)) {
        const key = t.projection ?? t.component;
        params.set(key, (params.get(key) ?? 0) + numel(t.shape));
      }
      const bytes = new Map<string, number>();
      const addBytes = (k: string, b: number) => bytes.set(k, (bytes.get(k) ?? 0) + b);
      // the tables as the file stores them (a GGUF's Q6_K / F16 rows, a checkpoint's f32)
      const tableBytes = (name: string) => {
        const w = m.weights.get(name);
        return w === undefined ? 0 : w instanceof Float32Array ? w.byteLength : "byteLength" in w ? w.byteLength : w.data.byteLength + w.scales.byteLength;
      };
      addBytes("embedding", tableBytes("model.embed_tokens.weight"));
      if (!spec.tie_word_embeddings) addBytes("lm_head", tableBytes("lm_head.weight"));
      addBytes("norm", model.finalNorm.gain.byteLength);
      for (const b of model.blocks) {
        const a = b.attention;
        for (const [p, lin] of [["q", a.q], ["k", a.k], ["v", a.v], ["o", a.o], ["gate", b.ffn.gate], ["up", b.ffn.up], ["down", b.ffn.down]] as const) addBytes(p, lin.weightBytes);
        addBytes("norm", b.attnNorm.gain.byteLength + b.ffnNorm.gain.byteLength + (a.subNorm?.gain.byteLength ?? 0) + (b.ffn.subNorm?.gain.byteLength ?? 0));
      }
      const rows = [...params].map(([k, n]) => [k, n.toLocaleString("en-US"), (bytes.get(k) ?? 0).toLocaleString("en-US"), ((8 * (bytes.get(k) ?? 0)) / n).toFixed(2)]);
      const total = parameterCounts(spec).total;
      const totalBytes = [...bytes.values()].reduce((a, b) => a + b, 0);
      rows.push(["total", total.toLocaleString("en-US"), totalBytes.toLocaleString("en-US"), ((8 * totalBytes) / total).toFixed(2)]);
      out(`${table(["component", "parameters", "bytes", "bits/weight"], rows)}\n\n`);

      // run text through the model, tapping the chosen layer's projection inputs
      const tapped = new Map<Projection, Float32Array[]>();
      const blk = model.blocks[layer]!;
      const lins: Record<Projection, (typeof blk.attention.q)> = { q: blk.attention.q, k: blk.attention.k, v: blk.attention.v, o: blk.attention.o, gate: blk.ffn.gate, up: blk.ffn.up, down: blk.ffn.down };
      for (const p of PROJECTIONS) lins[p].inputTap = (x) => tapped.set(p, [...(tapped.get(p) ?? []), x.slice()]);
      let ids: number[];
      if (m.tokenizer) ids = m.tokenizer.encode(options.text ?? SAMPLE_TEXT);
      else {
        if (options.text !== undefined) throw new CliError(`--text: ${m.source} has no tokenizer; omit --text to run random token ids`);
        ids = Array.from({ length: 32 }, (_, i) => 3 + ((i * 2654435761) >>> 0) % (spec.vocab_size - 3));
      }
      ids = ids.slice(0, spec.max_position_embeddings);
      model.forward(ids, model.newCache({ maxTokens: ids.length }));
      const report = runtimeReport(model, ids.length);
      const sp = report.sparsity;
      const sparsityRows = [...PROJECTIONS, "gate/up", "overall"].filter((k) => sp[k as keyof typeof sp] !== undefined).map((k) => [k, `${(100 * sp[k as keyof typeof sp]!).toFixed(1)} %`]);
      out(`activation sparsity over ${ids.length} tokens (fraction of zero quantized inputs; gate/up includes skipped up rows):\n${table(["projection", "zeros"], sparsityRows)}\n\n`);

      const panels: Array<{ title: string; histogram: Histogram }> = [];
      for (const p of ["q", "o", "up", "down"] as const) {
        const xs = tapped.get(p);
        if (!xs) continue;
        const all = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
        let off = 0;
        for (const x of xs) {
          all.set(x, off);
          off += x.length;
        }
        const h = histogram(all, options.bins);
        const title = `layer ${layer} ${p}_proj input`;
        panels.push({ title, histogram: h });
        out(`${terminalHistogram(h, { title, rows: 12, width: 36 })}\n\n`);
      }
      const { svg, png } = options;
      if (svg) {
        writeAtomic(svg, svgHistograms(panels));
        out(`wrote ${svg}\n`);
      }
      if (png) {
        writeAtomic(png, pngHistograms(panels.map((p) => p.histogram)));
        out(`wrote ${png}\n`);
      }
    } finally {
      backend.dispose();
    }
  },
});
