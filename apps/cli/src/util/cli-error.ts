/**
 * An error meant for the person at the terminal: printed as one line, no stack, with an exit code.
 * Exit codes: 1 = the work failed (bad file, bad spec, unknown backend), 2 = the command line itself is wrong,
 * 130 = interrupted (Ctrl-C).
 */
import { OnebitError } from "@onebit/quant";

export class CliError extends OnebitError {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 130 = 1,
  ) {
    super("CLI", message);
    this.name = "CliError";
  }
}

/** One line for any error: CliError and validation errors keep their message; others get their class name. */
export function formatError(err: unknown): string {
  if (err instanceof Error) {
    const line = err.message.split("\n")[0] ?? "";
    return err instanceof OnebitError || err.name.endsWith("Error") ? line : `${err.name}: ${line}`;
  }
  return String(err);
}
