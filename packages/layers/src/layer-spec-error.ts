/** A layer spec, weight or input that does not fit: names the field, the expected and the found value. */
import { OnebitError } from "@onebit/quant";

export class LayerSpecError extends OnebitError {
  constructor(message: string) {
    super("LAYER_SPEC", message);
    this.name = "LayerSpecError";
  }
}
