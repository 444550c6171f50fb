/**
 * How much memory a model may take in this tab, and how much a model will take, so a model that cannot fit is
 * refused with a message before its tensors are read (instead of the tab crashing half-way through a download).
 *
 * The budget: the smaller of 4 GiB — one WebAssembly.Memory (wasm32) addresses at most 4 GiB, and the wasm backend
 * holds every projection and the LM head in one — and half the device's memory as the browser reports it
 * (navigator.deviceMemory, which Chrome rounds and caps at 8 GiB). `?memory-limit-mib=N` in the page's URL sets
 * it by hand (to try how a small device behaves).
 * The estimate: the tensors as read (the worker's copy), plus the backend's copy of every projection and of the
 * LM head in its storage format (prepared from the file's table a chunk of rows at a time: no float32 copy).
 */
import type { TensorTable } from "@onebit/model";
import type { LmHead } from "../run/worker-protocol";

/** Bytes per weight of the LM head as the backend holds it (int8: a float32 scale per ≤ 256-column block; int4: Q4_0's codes with a bfloat16 scale per 64 columns, 4.25 bits). */
const HEAD_BYTES_PER_WEIGHT: Record<LmHead, number> = { f32: 4, int8: 1 + 4 / 256, int4: 4.25 / 8 };

export interface MemoryBudget {
  bytes: number;
  /** Where the number comes from, for the message. */
  why: string;
}

const GIB = 2 ** 30;
const MIB = 2 ** 20;

export function memoryBudget(search: string, deviceMemoryGiB: number | undefined): MemoryBudget {
  const override = new URLSearchParams(search).get("memory-limit-mib");
  if (override !== null) {
    const mib = Number(override);
    if (Number.isFinite(mib) && mib > 0) return { bytes: mib * MIB, why: `the page's memory-limit-mib=${override} setting` };
  }
  const wasm = { bytes: 4 * GIB, why: "the wasm backend's 4 GiB address space (wasm32)" };
  if (deviceMemoryGiB && (deviceMemoryGiB * GIB) / 2 < wasm.bytes) return { bytes: (deviceMemoryGiB * GIB) / 2, why: `half of this device's ${deviceMemoryGiB} GiB (navigator.deviceMemory)` };
  return wasm;
}

const EMBEDDING_NAMES = ["token_embd.weight", "model.embed_tokens.weight"];
const OUTPUT_NAMES = ["output.weight", "lm_head.weight"];

export function estimateModelBytes(table: TensorTable, lmHead: LmHead): number {
  const embed = EMBEDDING_NAMES.map((n) => table.tensors.get(n)).find(Boolean);
  const output = OUTPUT_NAMES.map((n) => table.tensors.get(n)).find(Boolean);
  const head = output ?? embed;
  const [vocab, hidden] = head && head.shape.length === 2 ? [head.shape[0]!, head.shape[1]!] : [0, 0];
  const tables = (embed?.byteLength ?? 0) + (output?.byteLength ?? 0);
  const projections = Math.max(0, table.tensorBytes - tables);
  const headInBackend = Math.ceil(vocab * hidden * HEAD_BYTES_PER_WEIGHT[lmHead]);
  return table.tensorBytes + projections + headInBackend;
}

export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 2 : 0)} MiB`;
}

export class ModelTooLargeError extends Error {
  constructor(file: string, needed: number, budget: MemoryBudget) {
    super(`${file}: too large for this tab: it needs about ${mib(needed)} (its tensors, plus the backend's copy of them), and this tab allows ${mib(budget.bytes)} (${budget.why}); nothing was loaded`);
    this.name = "ModelTooLargeError";
  }
}
