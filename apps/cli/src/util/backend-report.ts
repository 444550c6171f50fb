/**
 * `onebit inspect --backends`: every backend in the kernels' BACKENDS table — whether it runs here and, for those
 * that do, each kernel's source (native, reference, unsupported) and description, with the calls a small run made
 * (a BitLinear, a quantize, a softmax and a copy on each), so borrowing shows up as counted calls, not as a claim.
 */
import type { Backend, KernelInfo } from "@onebit/kernels";

export interface BackendReport {
  name: string;
  description: string;
  available: boolean;
  reason?: string;
  residency?: string;
  threads?: number;
  simd?: string;
  kernels?: KernelInfo[];
}

/** Run one small BitLinear layer's worth of kernels so the counts show where calls went. */
async function exercise(backend: Backend): Promise<void> {
  const { packTernaryT2 } = await import("@onebit/quant");
  const weight = backend.prepareWeight({
    weight: { kind: "ternary", outFeatures: 4, inFeatures: 64, data: packTernaryT2(Int8Array.from({ length: 256 }, (_, i) => (i % 3) - 1), 4, 64), scales: Float32Array.of(0.5), scaleAxis: "tensor" },
  });
  const x = backend.upload(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)));
  const y = backend.bitLinear({ weight, input: backend.quantize({ x, tokens: 1, features: 64, kind: "int8" }) });
  backend.softmax({ x: y, rows: 1, cols: 4 });
  const kept = backend.allocF32(4);
  backend.copyInto({ src: y, dst: kept, dstOffset: 0 });
  await backend.read(kept);
  backend.freeF32(kept);
}

export async function backendReports(options: { threads?: number } = {}): Promise<BackendReport[]> {
  const { BACKENDS } = await import("@onebit/kernels");
  const reports: BackendReport[] = [];
  for (const entry of BACKENDS) {
    const { available, reason } = await entry.availability();
    const report: BackendReport = { name: entry.name, description: entry.description, available, reason };
    if (available) {
      let backend: Backend | undefined;
      try {
        backend = await entry.create({ threads: options.threads });
        await exercise(backend);
        Object.assign(report, { residency: backend.residency, threads: backend.threads, simd: backend.simd, kernels: backend.kernels() });
      } catch (e) {
        Object.assign(report, { available: false, reason: `creating it failed: ${(e as Error).message}` });
      } finally {
        backend?.dispose();
      }
    }
    reports.push(report);
  }
  return reports;
}

export function formatBackendReports(reports: BackendReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const where = r.available ? `${r.residency} memory${r.simd ? `, ${r.simd} SIMD` : ""}${r.threads ? `, ${r.threads} thread${r.threads === 1 ? "" : "s"}` : ""}` : `not available here: ${r.reason}`;
    lines.push(`${r.name} — ${r.description} (${where})`);
    if (!r.kernels) continue;
    const width = Math.max(...r.kernels.map((k) => k.kernel.length));
    for (const k of r.kernels) {
      const source = k.source === "native, reference for some inputs" ? "native+ref" : k.source;
      const calls = k.source === "reference" ? `${k.calls.reference}` : k.source === "unsupported" ? "-" : `${k.calls.native}${k.calls.reference ? ` (+${k.calls.reference} on the reference)` : ""}`;
      lines.push(`  ${k.kernel.padEnd(width)}  ${source.padEnd(11)} calls ${calls.padEnd(6)} ${k.description}`);
    }
    const borrowed = r.kernels.filter((k) => k.source !== "native").length;
    lines.push(`  ${r.kernels.length - borrowed} native, ${r.kernels.filter((k) => k.source === "native, reference for some inputs").length} partly native, ${r.kernels.filter((k) => k.source === "reference").length} borrowed from the reference, ${r.kernels.filter((k) => k.source === "unsupported").length} unsupported`);
    lines.push("");
  }
  return lines.join("\n");
}
