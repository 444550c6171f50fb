/**
 * Fuzz target (run by config-file-fuzz.test.ts in a capped worker): mutated `--config` JSON files through
 * readConfigFile with generate's sampling options table — structural mutations, and every 4th case damaged text.
 * Expected refusal: CliError with exit code 2 naming the config file.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FuzzTarget } from "../../../../packages/model/src/testing/fuzz-harness";
import { mutateJson, mutateText } from "../../../../packages/model/src/testing/json-mutator";
import { samplingOptions } from "../commands/generate";
import { CliError } from "./cli-error";
import { type OptionSpec, readConfigFile } from "./options";

export function fuzzTarget(): FuzzTarget {
  const dir = mkdtempSync(join(tmpdir(), "onebit-fuzz-config-"));
  const path = join(dir, "run.json");
  const base: Record<string, unknown> = {};
  for (const [key, s] of Object.entries<OptionSpec>(samplingOptions)) base[key] = s.default ?? (s.kind === "int" ? 1 : s.kind === "number" ? 0.5 : s.kind === "boolean" ? true : s.kind === "choice" ? s.choices[0] : "x");
  return {
    next(rand, i) {
      const { text, what } = i % 4 === 3 ? mutateText(JSON.stringify(base), rand) : (({ value, what: w }) => ({ text: JSON.stringify(value) ?? "", what: w }))(mutateJson(base, rand));
      return {
        what,
        run() {
          writeFileSync(path, text);
          readConfigFile(path, samplingOptions);
        },
      };
    },
    refusal(err) {
      if (!(err instanceof CliError)) return "not a CliError";
      if (err.exitCode !== 2) return `exit code ${err.exitCode}, expected 2 (a usage error)`;
      return err.message.startsWith(`config file ${path}`) ? undefined : "message does not name the config file";
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
