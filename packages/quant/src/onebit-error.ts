/**
 * The one base class of every error onebit throws on purpose. `code` is stable (programs branch on it; messages
 * may change wording); the message names the file, tensor, field or flag, the expected and the found value.
 * It lives in @onebit/quant because every other package depends on it.
 */
export type OnebitErrorCode =
  | "QUANT_INPUT"
  | "KERNEL_INPUT"
  | "KERNEL_RESIDENCY"
  | "BACKEND_DEFINITION"
  | "LAYER_SPEC"
  | "KV_CACHE_FULL"
  | "KV_CACHE"
  | "MODEL_SPEC"
  | "MODEL_INPUT"
  | "NON_FINITE"
  | "MODEL_FILE"
  | "BYTE_RANGE"
  | "SAFETENSORS"
  | "ARCHITECTURE"
  | "GGUF_EXPORT"
  | "HF_EXPORT"
  | "EXPORT_DESTINATION"
  | "FOLDER_LOCKED"
  | "TRAINING_STATE"
  | "TRAIN_CONFIG"
  | "TRAIN_DATA"
  | "TRAIN_BACKEND"
  | "TRAIN_DIVERGED"
  | "TRAIN_WORKER"
  | "TRAIN_WRITE"
  | "CLI"
  | "SERVE_REJECTED";

export class OnebitError extends Error {
  constructor(
    readonly code: OnebitErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "OnebitError";
  }
}

export function isOnebitError(e: unknown): e is OnebitError {
  return e instanceof OnebitError;
}
