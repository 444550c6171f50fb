/**
 * The architecture table. Adding an architecture is one module and one row here; loaders, writers, `inspect`
 * and `convert` look architectures up only through these functions.
 */
import { OnebitError } from "@onebit/quant";
import type { ModelSpec } from "../model-spec";
import type { Architecture } from "./architecture";
import { bitnetCppB158Architecture } from "./bitnet-cpp-b158";
import { hfBitnetArchitecture } from "./hf-bitnet";
import { hfLlamaBitnetArchitecture } from "./hf-llama-bitnet";
import { llamaArchitecture } from "./llama";
import { llamaCppBitnetArchitecture } from "./llama-cpp-bitnet";
import { onebitArchitecture } from "./onebit";

export const ARCHITECTURES: readonly Architecture[] = [
  onebitArchitecture,
  llamaCppBitnetArchitecture,
  bitnetCppB158Architecture,
  hfBitnetArchitecture,
  llamaArchitecture,
  hfLlamaBitnetArchitecture,
];

export class ArchitectureError extends OnebitError {
  constructor(message: string) {
    super("ARCHITECTURE", message);
    this.name = "ArchitectureError";
  }
}

export function architectureById(id: string): Architecture {
  const a = ARCHITECTURES.find((x) => x.id === id);
  if (!a) throw new ArchitectureError(`unknown architecture "${id}"; known: ${ARCHITECTURES.map((x) => x.id).join(", ")}`);
  return a;
}

/** The architecture of a GGUF file's `general.architecture`. */
export function architectureForGguf(arch: string, file: string): Architecture {
  const a = ARCHITECTURES.find((x) => x.gguf?.arch === arch);
  if (!a) throw new ArchitectureError(`${file}: general.architecture "${arch}" is not supported; supported: ${ARCHITECTURES.filter((x) => x.gguf).map((x) => x.gguf!.arch).join(", ")}`);
  return a;
}

/** A config's `quantization_config.quant_method`, or undefined when it has no quantization_config (full precision). */
function quantMethodOf(config: Record<string, unknown>, file: string): string | undefined {
  const q = Object.hasOwn(config, "quantization_config") ? config.quantization_config : undefined;
  if (q === undefined || q === null) return undefined;
  const method = typeof q === "object" && !Array.isArray(q) && Object.hasOwn(q, "quant_method") ? (q as Record<string, unknown>).quant_method : undefined;
  if (typeof method !== "string") throw new ArchitectureError(`${file}: quantization_config.quant_method: expected a string, found ${JSON.stringify(method) ?? "nothing"}`);
  return method;
}

/** The architecture of a Hugging Face config.json, by `architectures[0]` then `model_type`, and the quantization method. */
export function architectureForConfig(config: Record<string, unknown>, file: string): Architecture {
  const names = Array.isArray(config.architectures) ? config.architectures.filter((x): x is string => typeof x === "string") : [];
  const type = typeof config.model_type === "string" ? config.model_type : undefined;
  const named = ARCHITECTURES.filter((x) => x.hf && (names.some((n) => x.hf!.architectures.includes(n)) || (type !== undefined && x.hf.modelTypes.includes(type))));
  if (named.length === 0)
    throw new ArchitectureError(
      `${file}: model_type ${JSON.stringify(type)} / architectures ${JSON.stringify(names)} is not supported; supported: ${[...new Set(ARCHITECTURES.filter((x) => x.hf).flatMap((x) => x.hf!.architectures))].join(", ")}`,
    );
  const method = quantMethodOf(config, file);
  const a = named.find((x) => x.hf!.quantMethod === method);
  if (!a) {
    const wants = named.map((x) => `${x.id} (${x.hf!.quantMethod === undefined ? "no quantization_config" : `quant_method ${JSON.stringify(x.hf!.quantMethod)}`})`).join(", ");
    throw new ArchitectureError(`${file}: quantization_config.quant_method: ${names[0] ?? type} is read as ${wants}; found ${method === undefined ? "no quantization_config" : JSON.stringify(method)}`);
  }
  return a;
}

/**
 * The GGUF architecture to write a spec as: the first foreign one that can express it exactly (so llama.cpp or
 * bitnet.cpp runs the file), else onebit's own — `reason` says why no other runtime can read it.
 */
export function ggufArchitectureFor(spec: ModelSpec): { architecture: Architecture; reason?: string } {
  const foreign = ARCHITECTURES.filter((a) => a.gguf && a !== onebitArchitecture);
  const reasons: string[] = [];
  for (const a of foreign) {
    const why = a.cannotExpress(spec);
    if (why === null) return { architecture: a };
    reasons.push(`${a.gguf!.arch}: ${why}`);
  }
  return { architecture: onebitArchitecture, reason: reasons.join("; ") };
}

/** The Hugging Face architecture to write a spec as, or the reason none fits. */
export function hfArchitectureFor(spec: ModelSpec): { architecture?: Architecture; reason?: string } {
  const reasons: string[] = [];
  for (const a of ARCHITECTURES.filter((x) => x.hf)) {
    const why = a.cannotExpress(spec);
    if (why === null) return { architecture: a };
    reasons.push(`${a.id}: ${why}`);
  }
  return { reason: reasons.join("; ") };
}
