/**
 * The `onebit` command: every subcommand registers itself here with its typed option table.
 * Implementations are imported lazily so `onebit --help` stays instant and tfjs loads only for training.
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
      const positional = actionArgs.slice(0, (def.args ?? []).length) as Array<string | undefined>;
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
