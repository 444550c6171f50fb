/**
 * The subtitle lines every figure carries (the issue: command, machine, budget and seeds on every figure), also
 * repeated under the figure in the README.
 */
import type { Provenance } from "../provenance";

export interface Caption {
  provenance: Provenance;
  budget: string;
  seeds: string;
}

export function captionLines(c: Caption): string[] {
  return [`command: ${c.provenance.command}`, `machine: ${c.provenance.machine}`, `budget: ${c.budget}`, `seeds: ${c.seeds} · code ${c.provenance.commit} · ${c.provenance.date}`];
}

export function captionMarkdown(c: Caption): string {
  return `<sub>Command: \`${c.provenance.command}\` · machine: ${c.provenance.machine} · budget: ${c.budget} · seeds: ${c.seeds} · code ${c.provenance.commit}, ${c.provenance.date}</sub>`;
}
