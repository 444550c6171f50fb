import type { CommandDef } from "./command";

/** Every `onebit` subcommand, in the order `onebit --help` lists them. */
export const commands: CommandDef[] = [];
