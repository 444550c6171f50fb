import { benchCommand } from "./bench";
import { chatCommand } from "./chat";
import { convertCommand } from "./convert";
import type { CommandDef } from "./command";
import { demoCommand } from "./demo";
import { energyCommand } from "./energy";
import { evalCommand } from "./eval";
import { formatsCommand } from "./formats";
import { generateCommand } from "./generate";
import { inspectCommand } from "./inspect";
import { serveCommand } from "./serve";
import { tokenizeCommand } from "./tokenize";
import { trainCommand } from "./train";

/** Every `onebit` subcommand, in the order `onebit --help` lists them. */
export const commands: CommandDef[] = [demoCommand, trainCommand, evalCommand, generateCommand, chatCommand, serveCommand, inspectCommand, benchCommand, energyCommand, formatsCommand, convertCommand, tokenizeCommand];
