/**
 * The safetensors header: after an 8-byte little-endian length comes a UTF-8 JSON object
 *   { "__metadata__"?: {string: string}, "<tensor>": { "dtype", "shape", "data_offsets": [begin, end] }, … }
 * with offsets relative to the first byte after the header. Validation follows the reference reader
 * (huggingface/safetensors, safetensors/src/tensor.rs `read_metadata` and `Metadata::validate`): header at most
 * 100 MB, offsets sorted, each tensor's byte count = numel × item size, and the tensors together covering the data
 * area exactly — no holes, no overlaps, no trailing bytes (the spec forbids holes so that a file cannot smuggle
 * a second payload). Every failure is a ModelFileError naming the file, the tensor or field, what was expected
 * and what was found; nothing here allocates more than the header it was given.
 */
import type { TensorEntry } from "../weights/weight-source";
import { ModelFileError } from "../weights/weight-source";
import { isSafetensorsDtype, MAX_HEADER_BYTES, SAFETENSORS_DTYPES, SAFETENSORS_ITEM_BYTES } from "./safetensors-dtype";

/** A tensor as the header describes it: `begin`/`end` are byte offsets inside the data area. */
export interface SafetensorsTensor extends TensorEntry {
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** `__metadata__` (strings only, as the spec's `HashMap<String, String>`). */
  metadata: Map<string, string>;
  /** In data order (ascending offsets). A Map, so names like "__proto__" are plain keys. */
  tensors: Map<string, SafetensorsTensor>;
}

/**
 * A value shown in an error message, written like JSON but bounded in depth and length: a hostile header (an
 * array nested 200 000 deep, a million-element shape) must not overflow the stack or make a megabyte message.
 */
export function shown(value: unknown, max = 80): string {
  const s = brief(value, 4, max + 1);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function brief(v: unknown, depth: number, budget: number): string {
  if (v === undefined) return "nothing";
  if (v === null || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "number") return Object.is(v, -0) ? "0" : String(v);
  if (typeof v === "string") return JSON.stringify(v.length > budget ? v.slice(0, budget) : v);
  if (typeof v !== "object") return typeof v;
  const array = Array.isArray(v);
  if (depth === 0) return array ? "[…]" : "{…}";
  const parts: string[] = [];
  let used = 2;
  const items: Iterable<string | number> = array ? (v as unknown[]).keys() : Object.keys(v);
  for (const k of items) {
    if (used > budget) {
      parts.push("…");
      break;
    }
    const item = brief((v as Record<string | number, unknown>)[k], depth - 1, budget - used);
    const part = array ? item : `${JSON.stringify(k)}:${item}`;
    parts.push(part);
    used += part.length + 1;
  }
  return array ? `[${parts.join(",")}]` : `{${parts.join(",")}}`;
}

const tensorField = (name: string, field?: string) => `tensor ${shown(name)}${field ? `.${field}` : ""}`;

/**
 * The header length from the file's first 8 bytes, checked against the spec's 100 MB cap and against the file
 * size before anything is allocated for it.
 */
export function headerLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (!Number.isSafeInteger(fileSize) || fileSize < 8)
    throw new ModelFileError(file, "header length", `expected a file of at least 8 bytes (the header length), found ${fileSize} bytes`);
  if (prefix.length !== 8) throw new ModelFileError(file, "header length", `expected 8 bytes, found ${prefix.length}`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new ModelFileError(file, "header length", `expected at most ${MAX_HEADER_BYTES} bytes (the safetensors limit), found ${n}`);
  if (n > BigInt(fileSize - 8))
    throw new ModelFileError(file, "header length", `header of ${n} bytes runs past the end of the file (${fileSize - 8} bytes follow the length): truncated or not safetensors`);
  return Number(n);
}

function expectObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Own property only: a header entry never inherits "dtype" or "shape" from Object.prototype. */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function parseTensor(file: string, name: string, raw: unknown, dataBytes: number): SafetensorsTensor {
  if (!expectObject(raw)) throw new ModelFileError(file, tensorField(name), `expected an object {dtype, shape, data_offsets}, found ${shown(raw)}`);
  const dtype = own(raw, "dtype");
  if (!isSafetensorsDtype(dtype)) {
    const what = typeof dtype === "string" ? `unsupported dtype ${shown(dtype)}` : `expected a dtype name, found ${shown(dtype)}`;
    throw new ModelFileError(file, tensorField(name, "dtype"), `${what}; supported: ${SAFETENSORS_DTYPES.join(", ")}`);
  }
  const item = SAFETENSORS_ITEM_BYTES[dtype];

  const shape = own(raw, "shape");
  if (!Array.isArray(shape)) throw new ModelFileError(file, tensorField(name, "shape"), `expected an array of dimensions, found ${shown(shape)}`);
  // numel is bounded by the data area while it is computed, so a shape like [1e15, 1e15] never overflows into a
  // wrong (wrapped or rounded) product: anything that needs more bytes than the file holds is refused as such.
  let elements = 1;
  let zero = false;
  let tooBig = false;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0)
      throw new ModelFileError(file, tensorField(name, `shape[${i}]`), `expected a non-negative integer, found ${shown(d)}`);
    if (d === 0) zero = true;
    else if (!tooBig) {
      elements *= d;
      if (elements * item > dataBytes) tooBig = true;
    }
  }
  const byteLength = zero ? 0 : elements * item;

  const offsets = own(raw, "data_offsets");
  if (!Array.isArray(offsets) || offsets.length !== 2)
    throw new ModelFileError(file, tensorField(name, "data_offsets"), `expected [begin, end], found ${shown(offsets)}`);
  const [begin, end] = offsets as unknown[];
  for (const [which, v] of [
    ["begin", begin],
    ["end", end],
  ] as const)
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      throw new ModelFileError(file, tensorField(name, "data_offsets"), `expected a non-negative integer ${which}, found ${shown(offsets)}`);
  const b = begin as number;
  const e = end as number;
  if (b > e) throw new ModelFileError(file, tensorField(name, "data_offsets"), `begin ${b} is after end ${e}`);
  if (!zero && tooBig)
    throw new ModelFileError(file, tensorField(name, "shape"), `${dtype} ${shown(shape)} needs more bytes than the ${dataBytes} data bytes in the file`);
  if (e - b !== byteLength)
    throw new ModelFileError(file, tensorField(name, "data_offsets"), `[${b}, ${e}] holds ${e - b} bytes; ${dtype} ${shown(shape)} needs ${byteLength}`);
  if (e > dataBytes) throw new ModelFileError(file, tensorField(name, "data_offsets"), `ends at byte ${e} but the data area has ${dataBytes} bytes: truncated`);
  return { name, dtype, shape: shape as number[], byteLength, begin: b, end: e };
}

/**
 * Parse and validate a header's JSON bytes. `dataBytes` is the size of the data area (file size − 8 − header
 * length), which the tensors must cover exactly.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, dataBytes: number, file: string): SafetensorsHeader {
  if (bytes.length > MAX_HEADER_BYTES) throw new ModelFileError(file, "header", `expected at most ${MAX_HEADER_BYTES} bytes, found ${bytes.length}`);
  let text: string;
  try {
    // fatal: invalid UTF-8 is an error, as in the reference (str::from_utf8); ignoreBOM keeps a BOM so JSON.parse
    // refuses it as serde_json does.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ModelFileError(file, "header", "is not valid UTF-8");
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(file, "header", `is not valid JSON (${shown((e as Error).message, 120)})`);
  }
  if (!expectObject(root)) throw new ModelFileError(file, "header", `expected a JSON object, found ${shown(root)}`);

  const metadata = new Map<string, string>();
  const list: SafetensorsTensor[] = [];
  // JSON.parse defines "__proto__" as an own data property, so Object.keys sees it like any other name; entries
  // go into Maps, never onto plain objects. (A name repeated in the JSON text keeps only its last value, as
  // serde_json's map does; the coverage check below then finds the hole the dropped entry leaves.)
  for (const name of Object.keys(root)) {
    const raw = root[name];
    if (name === "__metadata__") {
      if (raw === null) continue; // the reference's Option<HashMap>: null is "no metadata"
      if (!expectObject(raw)) throw new ModelFileError(file, "__metadata__", `expected an object of strings, found ${shown(raw)}`);
      for (const key of Object.keys(raw)) {
        const v = raw[key];
        if (typeof v !== "string") throw new ModelFileError(file, `__metadata__[${shown(key)}]`, `expected a string, found ${shown(v)}`);
        metadata.set(key, v);
      }
      continue;
    }
    list.push(parseTensor(file, name, raw, dataBytes));
  }

  // Sorted by (begin, end) like the reference; then each tensor must start where the previous one ended.
  list.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: SafetensorsTensor | undefined;
  for (const t of list) {
    if (t.begin < at)
      throw new ModelFileError(file, tensorField(t.name, "data_offsets"), `[${t.begin}, ${t.end}] overlaps tensor ${shown(previous!.name)} [${previous!.begin}, ${previous!.end}]`);
    if (t.begin > at)
      throw new ModelFileError(
        file,
        tensorField(t.name, "data_offsets"),
        `starts at ${t.begin} but ${previous ? `tensor ${shown(previous.name)} ends at ${at}` : "the data area starts at 0"}: a hole of ${t.begin - at} bytes (the spec requires tensors to cover the data area exactly)`,
      );
    at = t.end;
    previous = t;
  }
  if (at !== dataBytes)
    throw new ModelFileError(
      file,
      "data_offsets",
      `tensors cover ${at} bytes but the data area has ${dataBytes}: ${dataBytes - at} bytes after ${previous ? `tensor ${shown(previous.name)}` : "the header"} belong to no tensor`,
    );

  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of list) tensors.set(t.name, t);
  return { metadata, tensors };
}
