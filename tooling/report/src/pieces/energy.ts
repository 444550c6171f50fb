/**
 * Piece 3: arithmetic energy per generated token against model size, with @onebit/model's energy model
 * (`estimateEnergy`: the block projections' multiply–accumulates at the BitNet paper's per-operation energies,
 * arXiv 2310.11453 Table 2 after Horowitz 2014 — W1.58/W1 × A8 needs INT8 additions only, FP16 a multiply and an
 * add per weight). It counts the block projections only, so its saving is one constant at every size (7 nm:
 * (0.16 + 0.34) / 0.007 = 71.4×, the b1.58 paper's "71.4 times" for matrix multiplication, arXiv 2402.17764 §3 /
 * Figure 3 left). The b1.58 paper's end-to-end energy (Figure 3 right) grows in the 1-bit model's favour with size
 * because the parts that stay full precision shrink in share; "with LM head" adds the one such part this model can
 * count exactly — the LM head, FP16 in both models (embeddings stay full precision in b1.58) — to show that trend.
 * Attention scores and norms are left out, as in the papers.
 */
import { ENERGY_PJ, estimateEnergy, type ProcessNode } from "@onebit/model";
import { type Provenance, provenance } from "../provenance";
import { writeResults } from "../results-cache";
import { LLAMA_SHAPES, llamaSpec } from "./llama-shapes";

export interface EnergyRow {
  shape: string;
  node: ProcessNode;
  parameters: number;
  macsPerToken: number;
  lmHeadMacsPerToken: number;
  /** joules per token, block projections only (estimateEnergy) */
  fp16J: number;
  onebitJ: number;
  /** joules per token with the FP16 LM head added to both */
  fp16WithHeadJ: number;
  onebitWithHeadJ: number;
}

export interface EnergyResults {
  piece: "energy";
  provenance: Provenance;
  rows: EnergyRow[];
}

export function computeEnergy(command: string): EnergyResults {
  const rows: EnergyRow[] = [];
  for (const shape of LLAMA_SHAPES)
    for (const node of Object.keys(ENERGY_PJ) as ProcessNode[]) {
      // estimateEnergy is linear in the layer count; one layer × layers, because a 70B ModelSpec is over
      // parseModelSpec's 64 GiB float32 limit
      const perLayer = (v: "fp" | "b1.58") => estimateEnergy(llamaSpec(shape, v, 1), 1, node);
      const scale = (e: ReturnType<typeof estimateEnergy>) => ({ macsPerToken: e.macsPerToken * shape.layers, fp16Picojoules: e.fp16Picojoules * shape.layers, onebitPicojoules: e.onebitPicojoules * shape.layers });
      const fp = scale(perLayer("fp"));
      const one = scale(perLayer("b1.58"));
      const head = 32000 * shape.hidden;
      const e = ENERGY_PJ[node].fp16;
      const headPj = head * (e.add + e.mul);
      const params = fp.macsPerToken + 2 * head; // block projections + embedding + LM head
      rows.push({
        shape: shape.name,
        node,
        parameters: params,
        macsPerToken: fp.macsPerToken,
        lmHeadMacsPerToken: head,
        fp16J: fp.fp16Picojoules * 1e-12,
        onebitJ: one.onebitPicojoules * 1e-12,
        fp16WithHeadJ: (fp.fp16Picojoules + headPj) * 1e-12,
        onebitWithHeadJ: (one.onebitPicojoules + headPj) * 1e-12,
      });
    }
  const results: EnergyResults = { piece: "energy", provenance: provenance(command), rows };
  writeResults("energy", results);
  return results;
}
