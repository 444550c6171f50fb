/**
 * Range checks that need more than one flag, the model or the machine: sizes a flag implies (arrays it makes a
 * command allocate) against this machine's memory, token counts against the model's context, and the shapes tensor
 * parallelism splits. They run before a command prints anything or starts work, so a typo such as
 * `--rows 100000 --cols 100000` is a usage error (exit 2) naming the flag and the size, not an OOM crash minutes in
 * or an "Invalid typed array length" naming nothing.
 */
import { totalmem } from "node:os";
import type { ModelSpec } from "@onebit/model";
import { formatBytes } from "@onebit/quant";
import { CliError } from "./cli-error";

/** A typed array's length limit in Node 20 (V8): one array longer than this cannot exist, whatever the memory. */
export const MAX_ARRAY_ELEMENTS = 2 ** 32 - 1;

/** What one command may allocate: half of this machine's memory, leaving the rest to the OS and other work. */
export function memoryLimitBytes(): number {
  return totalmem() / 2;
}


/** Refuse `flag` when the arrays it implies (`bytes`, described by `what`) exceed the memory limit. */
export function checkMemory(flag: string, bytes: number, what: string, limit = memoryLimitBytes()): void {
  if (bytes > limit) throw new CliError(`${flag}: ${what} would need about ${formatBytes(bytes)}, over the ${formatBytes(limit)} this command may use (half of this machine's ${formatBytes(2 * limit)})`, 2);
}

/** Refuse `flag` when one array it implies would be longer than any typed array can be. */
export function checkArrayLength(flag: string, elements: number, what: string): void {
  if (elements > MAX_ARRAY_ELEMENTS) throw new CliError(`${flag}: ${what} would have ${elements.toExponential(3)} elements, over the ${MAX_ARRAY_ELEMENTS} one array can hold`, 2);
}

/** Refuse `flag` when `tokens` positions do not fit the model's context. */
export function checkContext(flag: string, tokens: number, spec: Pick<ModelSpec, "max_position_embeddings">, what = `${tokens} tokens`): void {
  const ctx = spec.max_position_embeddings;
  if (tokens > ctx) throw new CliError(`${flag}: ${what} exceed the model's context of ${ctx} tokens`, 2);
}

/** `<out>x<in>` (e.g. 2560x6912) → [out, in], each a positive int32. */
export function parseShape(flag: string, raw: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(raw);
  const dims = m ? [Number(m[1]), Number(m[2])] : [];
  if (!m || dims.some((d) => d < 1 || d > 2 ** 31 - 1)) throw new CliError(`${flag}: expected <out>x<in> of positive integers ≤ ${2 ** 31 - 1}, such as 2560x6912, got "${raw}"`, 2);
  return dims as [number, number];
}

/** A comma-separated list of positive integers, each ≤ `max`. */
export function parseIntList(flag: string, raw: string, max = 2 ** 31 - 1): number[] {
  const xs = raw.split(",").map((s) => (s.trim() === "" ? Number.NaN : Number(s.trim())));
  if (xs.some((x) => !Number.isInteger(x) || x < 1 || x > max)) throw new CliError(`${flag}: expected a comma-separated list of integers in 1..${max}, got "${raw}"`, 2);
  return xs;
}

/**
 * Bytes `onebit formats` holds for a rows×cols matrix: the float32 original, one format's dequantized copy and its
 * error/scratch arrays — four float32 matrices at the peak, counted generously since the table builds every format.
 */
export function formatsBytes(rows: number, cols: number): number {
  return 4 * 4 * rows * cols;
}

/**
 * Bytes the kernel benchmark holds: the int8 weight codes (1 byte each) and their 2-bit packing, one backend's
 * prepared copy of it, and per token count the int8 activations and the float32 output.
 */
export function kernelBenchBytes(outF: number, inF: number, maxTokens: number): number {
  return outF * inF * (1 + 0.25 + 0.25) + maxTokens * (inF + 4 * outF);
}

/**
 * A generous estimate of the bytes training holds (tfjs keeps every layer's activations for the backward pass):
 * weights, gradients and Adam moments (4 float32 per parameter), per layer the activations of batch × seqLen
 * positions and the attention scores (batch × heads × seqLen²), and the logits over the vocabulary.
 */
export function trainingBytes(spec: ModelSpec, parameters: number, batch: number, seqLen: number): number {
  const positions = batch * seqLen;
  const perLayer = positions * (12 * spec.hidden_size + 6 * spec.intermediate_size) + 3 * batch * spec.num_attention_heads * seqLen * seqLen;
  return 4 * (4 * parameters + spec.num_hidden_layers * perLayer + 3 * positions * spec.vocab_size);
}

/**
 * Tensor-parallel training gives each of `workers` threads whole attention heads, KV heads and an equal slice of
 * the FFN, so each of those counts must split evenly; refused naming the flag and the field.
 */
export function checkWorkerSplit(spec: ModelSpec, workers: number): void {
  if (workers === 1) return;
  for (const [field, n] of [["num_attention_heads", spec.num_attention_heads], ["num_key_value_heads", spec.num_key_value_heads], ["intermediate_size", spec.intermediate_size]] as const)
    if (n % workers !== 0) throw new CliError(`--workers ${workers}: the model's ${field} ${n} does not split into ${workers} equal shards; use a divisor of ${n}`, 2);
}
