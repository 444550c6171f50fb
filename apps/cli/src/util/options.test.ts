import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, expectTypeOf, it } from "vitest";
import { OnebitError } from "@onebit/quant";
import { CliError } from "./cli-error";
import { addOptions, coerceOption, defineOptions, optionDefaults, type OptionSpec, type OptionValues, resolveOptions } from "./options";

const specs = defineOptions({
  steps: { kind: "int", min: 1, description: "steps", default: 100 },
  lr: { kind: "number", min: 0, description: "learning rate", default: 0.001 },
  backend: { kind: "choice", choices: ["js", "wasm"], description: "backend", default: "wasm" },
  out: { kind: "string", description: "output dir" },
  resume: { kind: "boolean", description: "resume", default: false },
});

function parse(argv: string[]) {
  const cmd = addOptions(new Command("t").exitOverride().configureOutput({ writeErr: () => {} }), specs);
  cmd.parse(argv, { from: "user" });
  return resolveOptions(cmd, specs);
}

describe("options", () => {
  it("converts flags to typed values and applies defaults", () => {
    expect(parse(["--steps", "5", "--lr", "3e-3", "--resume"])).toEqual({
      steps: 5, lr: 0.003, backend: "wasm", resume: true,
    });
  });
  it("lets a config file beat defaults and flags beat the config file", () => {
    const dir = mkdtempSync(join(tmpdir(), "onebit-cli-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ steps: 7, backend: "js", out: "runs/x" }));
    expect(parse(["--config", file, "--steps", "9"])).toEqual({ steps: 9, lr: 0.001, backend: "js", out: "runs/x", resume: false });
  });
  it("refuses unknown keys and wrong types in the config file, naming the key", () => {
    const dir = mkdtempSync(join(tmpdir(), "onebit-cli-"));
    const a = join(dir, "a.json");
    writeFileSync(a, JSON.stringify({ stepz: 7 }));
    expect(() => parse(["--config", a])).toThrow(/unknown option "stepz"; known options: steps, lr/);
    const b = join(dir, "b.json");
    writeFileSync(b, JSON.stringify({ steps: 0 }));
    expect(() => parse(["--config", b])).toThrow(/"steps": expected an integer ≥ 1, got 0/);
    const c = join(dir, "c.json");
    writeFileSync(c, "{ nope");
    expect(() => parse(["--config", c])).toThrow(/not valid JSON/);
    expect(() => parse(["--config", join(dir, "missing.json")])).toThrow(/cannot read \(ENOENT\)/);
  });
  it("refuses bad flag values with the flag named", () => {
    expect(() => parse(["--steps", "2.5"])).toThrow(/--steps: expected an integer ≥ 1, got "2.5"/);
    expect(() => parse(["--lr", "abc"])).toThrow(CliError);
  });
  it("coerces booleans from JSON and strings", () => {
    const spec = specs.resume;
    expect(coerceOption(spec, true, "x")).toBe(true);
    expect(coerceOption(spec, "false", "x")).toBe(false);
    expect(() => coerceOption(spec, 1, "x")).toThrow(/expected true or false/);
  });
});

describe("option ranges", () => {
  it("refuses a value at an exclusive minimum and names the bound", () => {
    const topP: OptionSpec = { kind: "number", exclusiveMin: 0, max: 1, description: "p" };
    expect(() => coerceOption(topP, "0", "--top-p")).toThrow('--top-p: expected a number > 0 ≤ 1, got "0"');
    expect(coerceOption(topP, "0.5", "--top-p")).toBe(0.5);
  });

  it("caps every integer at int32 unless the table says otherwise, naming the ceiling only when it is broken", () => {
    const steps = specs.steps;
    expect(() => coerceOption(steps, "1e12", "--steps")).toThrow('--steps: expected an integer ≥ 1 ≤ 2147483647, got "1e12"');
    expect(coerceOption(steps, 2 ** 31 - 1, "--steps")).toBe(2 ** 31 - 1);
  });

  it("makes every config-file refusal a usage error (exit 2), as for flags", () => {
    const dir = mkdtempSync(join(tmpdir(), "onebit-cli-"));
    const cases: Record<string, string> = { "unknown.json": JSON.stringify({ stepz: 1 }), "bad.json": "{ nope", "array.json": "[1]", "range.json": JSON.stringify({ steps: 0 }) };
    for (const [name, text] of Object.entries(cases)) {
      writeFileSync(join(dir, name), text);
      let code: number | undefined;
      try {
        parse(["--config", join(dir, name)]);
      } catch (e) {
        code = (e as CliError).exitCode;
      }
      expect(code, name).toBe(2);
    }
    let missing: number | undefined;
    try {
      parse(["--config", join(dir, "missing.json")]);
    } catch (e) {
      missing = (e as CliError).exitCode;
    }
    expect(missing).toBe(2);
  });
});

describe("usage errors", () => {
  it("are OnebitErrors with the stable code CLI and exit code 2", () => {
    let err: unknown;
    try {
      parse(["--steps", "0"]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnebitError);
    expect([(err as CliError).code, (err as CliError).exitCode, (err as CliError).name]).toEqual(["CLI", 2, "CliError"]);
  });
});

describe("typed option tables", () => {
  it("derives each parsed value's type from the table: defaults make a value present, choices make a union", () => {
    const values = parse(["--backend", "js"]);
    expectTypeOf(values).toEqualTypeOf<OptionValues<typeof specs>>();
    expectTypeOf(values.steps).toEqualTypeOf<number>();
    expectTypeOf(values.backend).toEqualTypeOf<"js" | "wasm">();
    expectTypeOf(values.resume).toEqualTypeOf<boolean>();
    expectTypeOf(values.out).toEqualTypeOf<string | undefined>();
    expect(values.backend).toBe("js");
  });

  it("gives the defaults alone, typed", () => {
    const defaults = optionDefaults(specs);
    expectTypeOf(defaults).toEqualTypeOf<{ steps: number; lr: number; backend: "js" | "wasm"; resume: boolean }>();
    expect(defaults).toEqual({ steps: 100, lr: 0.001, backend: "wasm", resume: false });
  });

  it("refuses, at compile time, a choice default outside its choices and a default of the wrong kind", () => {
    // @ts-expect-error "fp8" is not one of the choices
    defineOptions({ head: { kind: "choice", choices: ["f32", "int8"], default: "fp8", description: "head" } });
    // @ts-expect-error an int option's default is a number
    defineOptions({ steps: { kind: "int", default: "100", description: "steps" } });
    expect(Object.keys(specs)).toEqual(["steps", "lr", "backend", "out", "resume"]);
  });
});
