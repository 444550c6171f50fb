import type { CommandDef } from "./command";
import { formatsCommand } from "./formats";

/** Every `onebit` subcommand, in the order `onebit --help` lists them. */
export const commands: CommandDef[] = [formatsCommand];
