/**
 * Typed command options that can come from flags or from a JSON config file (`--config run.json`).
 * One table per command describes each option once; it builds the commander flags, validates the config file
 * (unknown keys and wrong types are refused with the key named) and converts flag strings to typed values.
 * Every refusal here is a usage error (exit 2), whether the value came from a flag or from the config file.
 * Precedence: flag > config file > default.
 */
import { readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { CliError } from "./cli-error";

type Kind = "int" | "number" | "string" | "boolean" | "choice";

/** The largest integer any option accepts unless its table says less (int32, as tfjs shapes and counts are). */
export const MAX_INT_OPTION = 2 ** 31 - 1;

export interface OptionSpec {
  /** camelCase key, as in the config file and as commander stores it. */
  key: string;
  kind: Kind;
  description: string;
  /** Placeholder shown in --help, e.g. "<n>". */
  arg?: string;
  choices?: readonly string[];
  min?: number;
  /** The value must be greater than this (e.g. a probability mass that cannot be 0). */
  exclusiveMin?: number;
  /** Default for "int": MAX_INT_OPTION, so no count overflows an int32 or sizes an array from a typo. */
  max?: number;
  default?: string | number | boolean;
  short?: string;
}

export type OptionValues = Record<string, string | number | boolean | undefined>;

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function maxOf(spec: OptionSpec): number | undefined {
  return spec.max ?? (spec.kind === "int" ? MAX_INT_OPTION : undefined);
}

/** `overImplicitMax`: name the int32 ceiling only when it is what the value broke (it is noise otherwise). */
function describeKind(spec: OptionSpec, overImplicitMax = false): string {
  const max = overImplicitMax ? maxOf(spec) : spec.max;
  const range = () => `${spec.min !== undefined ? ` ≥ ${spec.min}` : ""}${spec.exclusiveMin !== undefined ? ` > ${spec.exclusiveMin}` : ""}${max !== undefined ? ` ≤ ${max}` : ""}`;
  switch (spec.kind) {
    case "int":
      return `an integer${range()}`;
    case "number":
      return `a number${range()}`;
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "choice":
      return `one of ${(spec.choices ?? []).join(", ")}`;
  }
}

/** Check and convert one value (a flag string or a JSON value); `where` names its origin in the error. */
export function coerceOption(spec: OptionSpec, raw: unknown, where: string): string | number | boolean {
  const bad = (overImplicitMax = false): never => {
    throw new CliError(`${where}: expected ${describeKind(spec, overImplicitMax)}, got ${JSON.stringify(raw)}`, 2);
  };
  switch (spec.kind) {
    case "boolean":
      if (typeof raw === "boolean") return raw;
      if (raw === "true") return true;
      if (raw === "false") return false;
      return bad();
    case "string":
      return typeof raw === "string" && raw.length > 0 ? raw : bad();
    case "choice":
      return typeof raw === "string" && (spec.choices ?? []).includes(raw) ? raw : bad();
    case "int":
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
      if (!Number.isFinite(n)) return bad();
      if (spec.kind === "int" && !Number.isInteger(n)) return bad();
      if (spec.min !== undefined && n < spec.min) return bad();
      if (spec.exclusiveMin !== undefined && n <= spec.exclusiveMin) return bad();
      const max = maxOf(spec);
      if (max !== undefined && n > max) return bad(true);
      return n;
    }
  }
}

/** Add the table's options to a commander command, plus `--config <file>`. */
export function addOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const flag = spec.kind === "boolean" ? `--${kebab(spec.key)}` : `--${kebab(spec.key)} ${spec.arg ?? "<value>"}`;
    const opt = new Option(spec.short ? `-${spec.short}, ${flag}` : flag, spec.description);
    if (spec.choices) opt.choices(spec.choices as string[]);
    if (spec.default !== undefined) opt.default(spec.default);
    cmd.addOption(opt);
    if (spec.kind === "boolean") cmd.addOption(new Option(`--no-${kebab(spec.key)}`).hideHelp());
  }
  cmd.addOption(new Option("--config <file>", "read options from a JSON file (flags override it)"));
  return cmd;
}

/** Read and validate a JSON config file against the table. */
export function readConfigFile(path: string, specs: readonly OptionSpec[]): OptionValues {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError(`config file ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 2);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`config file ${path}: not valid JSON (${(e as Error).message})`, 2);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new CliError(`config file ${path}: expected a JSON object of options, got ${Array.isArray(json) ? "an array" : JSON.stringify(json)}`, 2);
  const byKey = new Map(specs.map((s) => [s.key, s]));
  const out: OptionValues = {};
  for (const [key, value] of Object.entries(json)) {
    const spec = byKey.get(key);
    if (!spec) throw new CliError(`config file ${path}: unknown option "${key}"; known options: ${[...byKey.keys()].join(", ")}`, 2);
    out[key] = coerceOption(spec, value, `config file ${path}: "${key}"`);
  }
  return out;
}

/**
 * Merge commander's parsed values with the config file. Commander reports defaults as if given, so we ask it
 * where each value came from (`getOptionValueSource`) to let the config file beat defaults but not flags.
 */
export function resolveOptions(cmd: Command, specs: readonly OptionSpec[]): OptionValues {
  const parsed = cmd.opts() as Record<string, unknown>;
  const fromFile = typeof parsed.config === "string" ? readConfigFile(parsed.config, specs) : {};
  const out: OptionValues = {};
  for (const spec of specs) {
    const source = cmd.getOptionValueSource(spec.key);
    const raw = parsed[spec.key];
    if (source === "cli" || source === "env") out[spec.key] = coerceOption(spec, raw, `--${kebab(spec.key)}`);
    else if (spec.key in fromFile) out[spec.key] = fromFile[spec.key];
    else if (raw !== undefined) out[spec.key] = coerceOption(spec, raw, `--${kebab(spec.key)}`);
  }
  return out;
}
