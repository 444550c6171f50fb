/**
 * An input the model package refuses — a token id outside the vocabulary, a missing or mis-shaped tensor, a bad
 * option, an unreadable checkpoint file, a chat template that does not parse — with the file, tensor, field or
 * argument named and the expected and found value. (Files that are malformed as a format throw ModelFileError.)
 */
import { OnebitError } from "@onebit/quant";

export class ModelInputError extends OnebitError {
  constructor(message: string) {
    super("MODEL_INPUT", message);
    this.name = "ModelInputError";
  }
}
