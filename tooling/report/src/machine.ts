/**
 * The machine line every figure carries, recorded into each piece's JSON when it is measured (so a re-render on
 * another machine still names the machine the numbers came from). The report's runs were made on a shared
 * 2-core AMD EPYC (Zen 4) VM; other jobs ran beside them, so absolute speeds are noisy and ratios measured in
 * one process matter more.
 */
import { cpus, totalmem } from "node:os";

export function machineLine(): string {
  const c = cpus();
  const model = (c[0]?.model ?? "unknown CPU").replace(/\s+/g, " ").trim();
  const zen = model === "AMD EPYC" ? "AMD EPYC (Zen 4)" : model;
  return `${c.length} × ${zen} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.versions.node}, shared with other jobs`;
}
