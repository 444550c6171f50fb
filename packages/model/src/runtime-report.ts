/**
 * What a run of a Transformer cost: memory by component, activation sparsity per projection (a4.8 Table 2: the
 * fraction of zero inputs, gate/up combined as 1 − (1 − s_in)(1 − s_skip)), and the energy estimate.
 */
import type { Projection } from "@onebit/layers";
import { estimateEnergy, type EnergyEstimate } from "./energy";
import type { Transformer } from "./transformer";

export interface RuntimeReport {
  /**
   * bytes; embeddings = an input embedding table held apart from the LM head (0 for a tied model, whose lookups read
   * the LM head's storage); lmHead = the LM head as the backend holds it, or the float32 array it reads in place
   */
  memory: { embeddings: number; lmHead: number; attention: number; ffn: number; norms: number; total: number };
  /** fraction of zero inputs per projection kind; "gate/up" combines input sparsity and skipped up rows */
  sparsity: Partial<Record<Projection | "gate/up" | "overall", number>>;
  energy: EnergyEstimate;
}

export function runtimeReport(model: Transformer, tokens = 1): RuntimeReport {
  const spec = model.spec;
  let attention = 0;
  let ffn = 0;
  let norms = model.finalNorm.gain.byteLength;
  const seen: Record<string, { inputs: number; zeros: number }> = {};
  const add = (k: string, s: { inputs: number; zeros: number }) => {
    seen[k] ??= { inputs: 0, zeros: 0 };
    seen[k].inputs += s.inputs;
    seen[k].zeros += s.zeros;
  };
  let skippedRows = 0;
  let totalRows = 0;
  for (const b of model.blocks) {
    const a = b.attention;
    attention += a.q.weightBytes + a.k.weightBytes + a.v.weightBytes + a.o.weightBytes;
    ffn += b.ffn.gate.weightBytes + b.ffn.up.weightBytes + b.ffn.down.weightBytes;
    norms += b.attnNorm.gain.byteLength + b.ffnNorm.gain.byteLength + (a.subNorm?.gain.byteLength ?? 0) + (b.ffn.subNorm?.gain.byteLength ?? 0);
    add("q", a.q.sparsity);
    add("k", a.k.sparsity);
    add("v", a.v.sparsity);
    add("o", a.o.sparsity);
    add("gate", b.ffn.gate.sparsity);
    add("up", b.ffn.up.sparsity);
    add("down", b.ffn.down.sparsity);
    skippedRows += b.ffn.skipped.rows;
    totalRows += b.ffn.skipped.total;
  }
  const embeddings = model.embed?.byteLength ?? 0;
  const sparsity: RuntimeReport["sparsity"] = {};
  for (const [k, s] of Object.entries(seen)) if (s.inputs) sparsity[k as Projection] = s.zeros / s.inputs;
  if (sparsity.gate !== undefined) sparsity["gate/up"] = 1 - (1 - sparsity.gate) * (1 - (totalRows ? skippedRows / totalRows : 0));
  let zeros = 0;
  let inputs = 0;
  for (const s of Object.values(seen)) {
    zeros += s.zeros;
    inputs += s.inputs;
  }
  if (inputs) sparsity.overall = zeros / inputs;
  // a backend that reads a float32 head in place reports 0 bytes of its own: the array it reads is the head
  const lmHead = model.lmHeadPrepared.bytes > 0 ? model.lmHeadPrepared.bytes : spec.vocab_size * spec.hidden_size * 4;
  return { memory: { embeddings, lmHead, attention, ffn, norms, total: embeddings + lmHead + attention + ffn + norms }, sparsity, energy: estimateEnergy(spec, tokens) };
}
