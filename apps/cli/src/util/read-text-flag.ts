import { readFileSync } from "node:fs";
import { CliError } from "./cli-error";

/** The text of a file a flag names (`--text-file`); one that cannot be read is a usage error naming the flag. */
export function readTextFlag(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError(`${flag} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 2);
  }
}
