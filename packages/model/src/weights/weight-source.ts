/**
 * One interface over every file a model's tensors can come from (safetensors, sharded safetensors, GGUF):
 * the header is parsed and validated when the source is opened; tensor bytes are read on demand, one tensor at a
 * time, so loading never holds a file twice.
 *
 * Shapes are row-major, outermost dimension first (PyTorch order): a GGUF tensor with ne = [in, out] is listed
 * as [out, in]. `dtype` is the file's own type name: safetensors "F32", "BF16", "U8", …; GGUF "F32", "F16",
 * "BF16", "Q8_0", "Q4_0", "Q6_K", "TQ1_0", "TQ2_0", "I2_S", … (ggml's names, upper case).
 */
import type { ByteRange } from "@onebit/kernels";
import { OnebitError } from "@onebit/quant";
export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Bytes of the tensor's data in the file (for I2_S including its 32-byte scale tail). */
  byteLength: number;
}

export interface WeightSource {
  readonly format: "safetensors" | "gguf";
  /** The file (or index) path, for error messages. */
  readonly path: string;
  /** GGUF key/value metadata, or safetensors `__metadata__` (strings). */
  readonly metadata: ReadonlyMap<string, unknown>;
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  /** The tensor's bytes, exactly `byteLength` of them, in a fresh buffer. Throws naming the file and tensor. */
  read(name: string): Promise<Uint8Array>;
  /**
   * The tensor's bytes left in the file, read a piece at a time on demand (also after close()), where the source
   * can read synchronously (a file on disk; undefined otherwise). Errors name the file and tensor.
   */
  range?(name: string): ByteRange | undefined;
  close(): Promise<void>;
}

/** A malformed or inconsistent model file: names the file, the field or tensor, the expected and found value. */
export class ModelFileError extends OnebitError {
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super("MODEL_FILE", `${file}: ${field}: ${message}`);
    this.name = "ModelFileError";
  }
}
