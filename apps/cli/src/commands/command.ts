import type { OptionTable, OptionValues } from "../util/options";

/** A positional argument; a required one is always a string when the command runs. */
export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
}

/** The positional values of an argument list: `string` for a required argument, `string | undefined` otherwise. */
export type ArgValues<A extends readonly ArgSpec[]> = { -readonly [I in keyof A]: A[I] extends { required: true } ? string : string | undefined };

export interface CommandContext<O extends OptionTable = OptionTable, A extends readonly ArgSpec[] = readonly ArgSpec[]> {
  args: ArgValues<A>;
  options: OptionValues<O>;
}

/** One subcommand: its name, help text, positional arguments, option table and implementation. */
export interface CommandDef<O extends OptionTable = OptionTable, A extends readonly ArgSpec[] = readonly ArgSpec[]> {
  name: string;
  description: string;
  args?: A;
  options: O;
  run(ctx: CommandContext<O, A>): Promise<void>;
}

/**
 * Declare a subcommand: `run` receives the values its own tables describe (an option read as its table's type, a
 * required argument as a string), so no command casts what it reads.
 */
export function defineCommand<const O extends OptionTable, const A extends readonly ArgSpec[] = []>(def: CommandDef<O, A>): CommandDef<O, A> {
  return def;
}
