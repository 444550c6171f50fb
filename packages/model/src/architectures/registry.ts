/**
 * The architecture table. Adding an architecture is one module and one row here; loaders, writers, `inspect`
 * and `convert` look architectures up only through these functions.
 */
import { OnebitError } from "@onebit/quant";
import type { ModelSpec } from "../model-spec";
import type { Architecture } from "./architecture";
import { bitnetCppB158Architecture } from "./bitnet-cpp-b158";
import { hfBitnetArchitecture } from "./hf-bitnet";
import { llamaArchitecture } from "./llama";
import { llamaCppBitnetArchitecture } from "./llama-cpp-bitnet";
import { onebitArchitecture } from "./onebit";

export const ARCHITECTURES: readonly Architecture[] = [onebitArchitecture, llamaCppBitnetArchitecture, bitnetCppB158Architecture, hfBitnetArchitecture, llamaArchitecture];

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

/** The architecture of a Hugging Face config.json, by `architectures[0]` then `model_type`. */
export function architectureForConfig(config: Record<string, unknown>, file: string): Architecture {
  const names = Array.isArray(config.architectures) ? config.architectures.filter((x): x is string => typeof x === "string") : [];
  const type = typeof config.model_type === "string" ? config.model_type : undefined;
  const a = ARCHITECTURES.find((x) => x.hf && (names.some((n) => x.hf!.architectures.includes(n)) || (type !== undefined && x.hf.modelTypes.includes(type))));
  if (!a)
    throw new ArchitectureError(
      `${file}: model_type ${JSON.stringify(type)} / architectures ${JSON.stringify(names)} is not supported; supported: ${ARCHITECTURES.filter((x) => x.hf).flatMap((x) => x.hf!.architectures).join(", ")}`,
    );
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
