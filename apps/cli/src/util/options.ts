/**
 * Typed command options that can come from flags or from a JSON config file (`--config run.json`).
 * One table per command describes each option once (`defineOptions`): it builds the commander flags and --help,
 * validates the config file (unknown keys and wrong types are refused with the key named), converts flag strings
 * to typed values, and gives the TypeScript type of the parsed values (`OptionValues<typeof table>`), so a command
 * reads `options.steps` as a number without a cast and a renamed or retyped option fails to compile where it is used.
 * Every refusal here is a usage error (exit 2), whether the value came from a flag or from the config file.
 * Precedence: flag > config file > default.
 */
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { CliError } from "./cli-error";

/** The largest integer any option accepts unless its table says less (int32, as tfjs shapes and counts are). */
export const MAX_INT_OPTION = 2 ** 31 - 1;

interface OptionCommon {
  description: string;
  /** Placeholder shown in --help, e.g. "<n>". */
  arg?: string;
  /** One-letter alias, e.g. "p" for -p. */
  short?: string;
}

/** "int" (an integer) or "number"; both read as `number`. */
export interface NumberOptionSpec extends OptionCommon {
  kind: "int" | "number";
  min?: number;
  /** The value must be greater than this (e.g. a probability mass that cannot be 0). */
  exclusiveMin?: number;
  /** Default for "int": MAX_INT_OPTION, so no count overflows an int32 or sizes an array from a typo. */
  max?: number;
  default?: number;
}

export interface StringOptionSpec extends OptionCommon {
  kind: "string";
  default?: string;
}

/** A flag `--x` with a hidden `--no-x`; without a default it is `undefined` unless one of them is given. */
export interface BooleanOptionSpec extends OptionCommon {
  kind: "boolean";
  default?: boolean;
}

/** One of a fixed list of strings; reads as the union of the list's literals. */
export interface ChoiceOptionSpec<C extends string = string> extends OptionCommon {
  kind: "choice";
  choices: readonly C[];
  default?: C;
}

export type OptionSpec = NumberOptionSpec | StringOptionSpec | BooleanOptionSpec | ChoiceOptionSpec;
export type OptionKind = OptionSpec["kind"];

/** A command's options: camelCase key (as in the config file and as commander stores it) → spec, in --help order. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The value one spec parses to. */
export type OptionValue<S extends OptionSpec> = S extends { kind: "int" | "number" }
  ? number
  : S extends { kind: "string" }
    ? string
    : S extends { kind: "boolean" }
      ? boolean
      : S extends { kind: "choice"; choices: readonly (infer C)[] }
        ? C
        : never;

type WithDefault<T extends OptionTable> = { [K in keyof T]: T[K] extends { default: string | number | boolean } ? K : never }[keyof T];

/**
 * The parsed values of a table: an option with a default is always present; one without is optional (absent
 * unless a flag or the config file gives it).
 */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in WithDefault<T>]: OptionValue<T[K]>;
} & {
  -readonly [K in Exclude<keyof T, WithDefault<T>>]?: OptionValue<T[K]>;
};

/** The defaults alone: what a command gets when no flag and no config file is given. */
export type OptionDefaults<T extends OptionTable> = { -readonly [K in WithDefault<T>]: OptionValue<T[K]> };

/** A choice option's default must be one of its choices; anything else is a compile error at the table. */
type CheckedTable<T extends OptionTable> = {
  [K in keyof T]: T[K] extends { kind: "choice"; choices: readonly (infer C extends string)[] } ? ChoiceOptionSpec<C> : T[K];
};

/**
 * Declare a command's option table. `const` keeps the literal kinds, choices and defaults, from which
 * OptionValues derives each value's type; the table itself is returned unchanged.
 */
export function defineOptions<const T extends OptionTable>(table: T & CheckedTable<T>): T {
  return table;
}

/** The table's defaults, typed (for callers that run a command's work without parsing a command line). */
export function optionDefaults<T extends OptionTable>(table: T): OptionDefaults<T> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) if (spec.default !== undefined) out[key] = spec.default;
  // the loop above keeps exactly the entries OptionDefaults<T> names, each with its spec's default
  return out as OptionDefaults<T>;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function maxOf(spec: OptionSpec): number | undefined {
  if (spec.kind !== "int" && spec.kind !== "number") return undefined;
  return spec.max ?? (spec.kind === "int" ? MAX_INT_OPTION : undefined);
}

/** `overImplicitMax`: name the int32 ceiling only when it is what the value broke (it is noise otherwise). */
function describeKind(spec: OptionSpec, overImplicitMax = false): string {
  switch (spec.kind) {
    case "int":
    case "number": {
      const max = overImplicitMax ? maxOf(spec) : spec.max;
      const range = `${spec.min !== undefined ? ` ≥ ${spec.min}` : ""}${spec.exclusiveMin !== undefined ? ` > ${spec.exclusiveMin}` : ""}${max !== undefined ? ` ≤ ${max}` : ""}`;
      return `${spec.kind === "int" ? "an integer" : "a number"}${range}`;
    }
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "choice":
      return `one of ${spec.choices.join(", ")}`;
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
    case "choice": {
      const choice = typeof raw === "string" ? spec.choices.find((c) => c === raw) : undefined;
      return choice ?? bad();
    }
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
export function addOptions(cmd: Command, table: OptionTable): Command {
  for (const [key, spec] of Object.entries(table)) {
    const flag = spec.kind === "boolean" ? `--${kebab(key)}` : `--${kebab(key)} ${spec.arg ?? "<value>"}`;
    const opt = new Option(spec.short ? `-${spec.short}, ${flag}` : flag, spec.description);
    if (spec.kind === "choice") opt.choices(spec.choices);
    if (spec.default !== undefined) opt.default(spec.default);
    cmd.addOption(opt);
    if (spec.kind === "boolean") cmd.addOption(new Option(`--no-${kebab(key)}`).hideHelp());
  }
  cmd.addOption(new Option("--config <file>", "read options from a JSON file (flags override it)"));
  return cmd;
}

/** Read and validate a JSON config file against the table: key → converted value. */
export function readConfigFile(path: string, table: OptionTable): Record<string, string | number | boolean> {
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
  const byKey = new Map(Object.entries(table));
  const out: Record<string, string | number | boolean> = {};
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
export function resolveOptions<T extends OptionTable>(cmd: Command, table: T): OptionValues<T> {
  const parsed: Record<string, unknown> = cmd.opts();
  const fromFile = typeof parsed.config === "string" ? readConfigFile(parsed.config, table) : {};
  const out: Record<string, string | number | boolean> = {};
  for (const [key, spec] of Object.entries(table)) {
    const source = cmd.getOptionValueSource(key);
    const raw = parsed[key];
    const fileValue = fromFile[key];
    if (source === "cli" || source === "env") out[key] = coerceOption(spec, raw, `--${kebab(key)}`);
    else if (fileValue !== undefined) out[key] = fileValue;
    else if (raw !== undefined) out[key] = coerceOption(spec, raw, `--${kebab(key)}`);
  }
  // The one place the table's type meets the runtime record: every value above passed coerceOption against its own
  // spec (so it has OptionValue<spec>'s type), and every option with a default is present (commander fills it in).
  return out as OptionValues<T>;
}
