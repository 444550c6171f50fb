/**
 * The model the site ships with: BitNet b1.58 "tiny" (0.86 M parameters, a 1024-token byte-level BPE), trained by
 * `onebit train` on the Brown corpus — apps/web/scripts/train-shipped-model.sh regenerates it. Its tokenizer is
 * also the one the Train tab encodes the Brown slice with.
 */
export const SHIPPED_MODEL = {
  name: "b1.58 tiny · Brown",
  folder: "models/b158-tiny-brown/",
  files: ["config.json", "model.safetensors", "tokenizer.json"],
};

/** The folder's absolute URL (the site may be hosted under any path: vite builds it with base "./"). */
export function shippedModelUrl(): string {
  return new URL(SHIPPED_MODEL.folder, document.baseURI).href;
}
