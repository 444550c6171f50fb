/**
 * `pnpm report`: the papers' claims (BitNet arXiv 2310.11453, b1.58 arXiv 2402.17764, a4.8 arXiv 2411.04965)
 * reproduced at small scale from onebit's own runs — pieces run (or are read from their cached JSON under
 * docs/report/results/), then every figure is rendered to docs/report/figures/ and README.md is written.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFigure } from "./figures/render-figure";
import { findings } from "./findings";
import { FIGURES_DIR, REPORT_DIR } from "./paths";
import { reanalyse } from "./pieces/a48-reanalysis";
import { a48Configs } from "./pieces/a48-runs";
import { computeEnergy, type EnergyResults } from "./pieces/energy";
import { groupsConfigs } from "./pieces/groups-runs";
import { type LatencyResults, runLatency } from "./pieces/latency-memory";
import { ANALYSED_RUNS, scalingConfigs } from "./pieces/scaling-runs";
import { readmeFooter, readmeHeader } from "./readme-text";
import { assembleReadme } from "./readme-writer";
import { levelFlag, PIECES, type Piece, parseReportArgs } from "./report-options";
import { readResults, resultsPath } from "./results-cache";
import { a48Section } from "./sections/a48-section";
import { energySection } from "./sections/energy-section";
import { latencySection } from "./sections/latency-section";
import { scalingSection } from "./sections/scaling-section";
import type { Section } from "./sections/section";
import { variantsSection } from "./sections/variants-section";
import type { A48Analysis } from "./train/a48-inference";
import { runTrainingPiece, type TrainingResults } from "./train/training-piece";

const options = parseReportArgs(process.argv.slice(2));
const command = (p: Piece) => `pnpm report -- --only ${p}${levelFlag(options.level)}`;
const heavy = options.level === "heavy";
const train = { force: options.force, parallel: options.parallel };

async function runPiece(p: Piece): Promise<void> {
  const t0 = performance.now();
  console.error(`report: running ${p}`);
  if (p === "scaling") await runTrainingPiece("scaling", scalingConfigs(options.level), command(p), train);
  else if (p === "a48") {
    await runTrainingPiece("a48", a48Configs(heavy), command(p), train);
    await reanalyse(command(p), train);
  }
  else if (p === "groups") await runTrainingPiece("groups", groupsConfigs(), command(p), train);
  else if (p === "latency") await runLatency(command(p), options.force);
  else computeEnergy(command(p));
  console.error(`report: ${p} done in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
}

for (const p of PIECES) if (options.only ? options.only.includes(p) : !existsSync(resultsPath(p))) await runPiece(p);

const scaling = readResults<TrainingResults>("scaling");
const latency = readResults<LatencyResults>("latency");
const energy = readResults<EnergyResults>("energy");
const a48 = readResults<TrainingResults>("a48");
const groups = readResults<TrainingResults>("groups");
const sections: Section[] = [];
if (scaling) sections.push(scalingSection(scaling));
if (latency) sections.push(latencySection(latency));
if (energy) sections.push(energySection(energy));
if (scaling) sections.push(a48Section(scaling, a48));
if (scaling) sections.push(variantsSection(scaling, groups));
for (const s of sections) for (const f of s.figures) await writeFigure(FIGURES_DIR, f.name, f.spec);
const kv8 = ANALYSED_RUNS.some((id) => (scaling?.runs[id]?.analysis as A48Analysis | undefined)?.kv.some((k) => k.kvBits === (8 as number)));
const readme = assembleReadme(sections, findings({ scaling, latency, energy, a48, groups }), readmeHeader(), readmeFooter({ kv8 }));
writeFileSync(join(REPORT_DIR, "README.md"), readme);
console.error(`report: ${sections.reduce((n, s) => n + s.figures.length, 0)} figures and README.md written to ${REPORT_DIR}`);
