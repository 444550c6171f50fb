/**
 * The `onebit` command: each subcommand listed in commands/registry.ts is added here from its definition — its
 * positional arguments and its option table (util/options.ts), which give the flags, --help, the config-file checks
 * and the types of the values its `run` reads.
 * Command modules import only the CLI's own code at the top; the model, kernels, fastify and tfjs are imported
 * inside `run` (tfjs only by `train` and `demo`), so `onebit --help` loads none of them (program.test.ts checks).
 */
import { Command, CommanderError } from "commander";
import { commands } from "./commands/registry";
import { CliError, formatError } from "./util/cli-error";
import { addOptions, resolveOptions } from "./util/options";

export const VERSION = "0.0.0";

export function buildProgram(): Command {
  const program = new Command("onebit")
    .description("onebit — train, run and inspect 1-bit LLMs (BitNet, BitNet b1.58, BitNet a4.8)")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const def of commands) {
    const cmd = new Command(def.name).description(def.description).exitOverride();
    for (const a of def.args ?? []) cmd.argument(a.required ? `<${a.name}>` : `[${a.name}]`, a.description);
    addOptions(cmd, def.options);
    cmd.action(async (...actionArgs: unknown[]) => {
      // commander passes the positional values first (a string, or undefined for an optional one left out)
      const positional = actionArgs.slice(0, (def.args ?? []).length).map((a) => (typeof a === "string" ? a : undefined));
      const options = resolveOptions(cmd, def.options);
      await def.run({ args: positional, options });
    });
    program.addCommand(cmd);
  }
  return program;
}

/** Run the CLI; returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: string[], io: { stderr: (s: string) => void } = { stderr: (s) => process.stderr.write(s) }): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or the help/version text, which exit 0)
      return err.exitCode === 0 ? 0 : 2;
    }
    io.stderr(`onebit: error: ${formatError(err)}\n`);
    if (process.env.ONEBIT_DEBUG && err instanceof Error) io.stderr(`${err.stack}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
