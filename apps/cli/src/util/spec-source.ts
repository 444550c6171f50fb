import { readFileSync } from "node:fs";
import type { ModelSpec } from "@onebit/model";
import { CliError } from "./cli-error";

/** A ModelSpec from --spec <file.json> (validated, errors name the file and field) or --preset <name>. */
export async function specFrom(options: { spec?: unknown; preset?: unknown }): Promise<ModelSpec> {
  const model = await import("@onebit/model");
  if (typeof options.spec === "string") {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(options.spec, "utf8"));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CliError(`--spec ${options.spec}: ${code ? `cannot read (${code})` : `not valid JSON (${(e as Error).message})`}`);
    }
    try {
      return model.parseModelSpec(json);
    } catch (e) {
      throw new CliError(`--spec ${options.spec}: ${(e as Error).message}`);
    }
  }
  const name = String(options.preset ?? "b1.58-tiny");
  try {
    return model.presetByName(name);
  } catch {
    throw new CliError(`--preset: unknown preset "${name}"; presets: ${model.PRESET_NAMES.join(", ")}`);
  }
}
