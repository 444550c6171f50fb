import type { OptionSpec, OptionValues } from "../util/options";

export interface CommandContext {
  args: Array<string | undefined>;
  options: OptionValues;
}

/** One subcommand: its name, help text, positional arguments, option table and implementation. */
export interface CommandDef {
  name: string;
  description: string;
  args?: Array<{ name: string; description: string; required?: boolean }>;
  options: OptionSpec[];
  run(ctx: CommandContext): Promise<void>;
}
