/**
 * `--kv-bits`: the KV cache's precision, shared by every command that runs a model. Flags and config files give
 * strings, so the option is a choice of the strings and `kvBitsOf` maps each to its KvBits by table, not by a cast.
 */
import type { KvBits } from "@onebit/kv";
import type { ChoiceOptionSpec } from "./options";

const KV_BITS = { "32": 32, "16": 16, "8": 8, "4": 4, "3": 3 } as const satisfies Record<string, KvBits>;
type KvBitsChoice = keyof typeof KV_BITS;

export const kvBitsOption = {
  kind: "choice",
  choices: ["32", "16", "8", "4", "3"],
  default: "32",
  arg: "<bits>",
  description: "KV cache precision",
} as const satisfies ChoiceOptionSpec<KvBitsChoice>;

export function kvBitsOf(choice: KvBitsChoice): KvBits {
  return KV_BITS[choice];
}
