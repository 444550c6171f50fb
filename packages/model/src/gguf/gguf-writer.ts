/**
 * GGUF v3 writer, byte for byte gguf.cpp's gguf_write_out: "GGUF", u32 3, u64 n_tensors, u64 n_kv, the metadata
 * entries, the tensor infos, zero padding to the alignment, then each tensor's data followed by zero padding to
 * the alignment (the last one too). Offsets count from the data section's start. One difference: n_dims is the
 * rank of the shape given (as gguf-py's GGUFWriter writes it), where gguf.cpp drops trailing ne of 1 — both load.
 *
 * Every metadata value carries an explicit GGUF type, and values are checked against it (llama.cpp reads each
 * key with one exact type: `bitnet.block_count` u32, `tokenizer.ggml.tokens` string[], `tokenizer.ggml.token_type`
 * i32[], `tokenizer.ggml.scores` f32[], `tokenizer.ggml.merges` string[], `tokenizer.ggml.add_bos_token` bool).
 * An alignment other than 32 is recorded as general.alignment (u32), as gguf-py does.
 *
 * `writeGguf` streams the header and each tensor to a temporary file and renames it into place, so a reader never
 * sees half a file and the tensors are not copied into one buffer first. A tensor's data may be a `ByteRange` (bytes
 * still in another file, or made when first read: export/lazy-bytes.ts), copied WRITE_CHUNK bytes at a time through
 * one buffer, so a conversion holds a piece of one tensor at a time rather than the whole model twice.
 */
import { open, rename, unlink } from "node:fs/promises";
import { type ByteRange, copyBytes, isByteRange, rangePieces } from "@onebit/kernels";
import { ModelFileError } from "../weights/weight-source";
import { type FieldName, nameOf } from "./gguf-cursor";
import { GGML_MAX_DIMS, GGML_MAX_NAME_BYTES, GGUF_DEFAULT_ALIGNMENT, GGUF_MAX_KEY_BYTES, GGUF_MAX_STRING_BYTES } from "./gguf-reader";
import {
  GGUF_TYPE_ARRAY,
  type GgufKeyValue,
  type GgufScalarType,
  type GgufType,
  type GgufTypedValue,
  ggufTypeId,
  isGgufType,
  NUMERIC_ARRAYS,
  type NumericScalarType,
  scalarProblem,
} from "./gguf-value-types";
import { ggmlTensorBytes, ggmlTypeByName, SUPPORTED_TYPE_LIST } from "./ggml-tensor-types";

export interface GgufTensorInput {
  name: string;
  /** ggml type name: "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q6_K", "TQ1_0", "TQ2_0", "I2_S". */
  dtype: string;
  /** PyTorch order (outermost first); written reversed as ggml's ne. */
  shape: readonly number[];
  /** Exactly ggml_nbytes of the tensor: in memory, or a ByteRange read a piece at a time as it is written. */
  data: Uint8Array | ByteRange;
}

/** Options of writeGguf beyond the alignment. */
export interface WriteGgufOptions {
  /** Called after each piece written: bytes written so far and the file's total (for a progress bar). */
  onProgress?: (written: number, total: number) => void;
}

/** Bytes a ByteRange tensor is copied through at a time. */
export const WRITE_CHUNK = 16 << 20;

/**
 * `[key, type, value]` tuples or `{key, type, value}` records, or a map such as GgufSource.typedMetadata; written
 * in the order given.
 */
export type GgufMetadataInput = readonly (readonly [key: string, type: GgufType, value: unknown] | GgufKeyValue)[] | ReadonlyMap<string, GgufTypedValue>;

export interface GgufInput {
  metadata: GgufMetadataInput;
  tensors: readonly GgufTensorInput[];
}

const utf8 = new TextEncoder();

/** A growable little-endian byte buffer (each write reserves first: growing replaces `buf` and `view`). */
class ByteWriter {
  private buf = new Uint8Array(1 << 12);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.length + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u8(v: number): void {
    const at = this.reserve(1);
    this.buf[at] = v;
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, v);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, v, true);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, v, true);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, v, true);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, v, true);
  }
  u64(v: number | bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }
  i64(v: number | bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, BigInt(v), true);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  /** gguf_writer_base::write(std::string): u64 length, then the UTF-8 bytes, encoded in place. Returns the length. */
  string(s: string): number {
    const room = 3 * s.length; // UTF-8 takes at most 3 bytes per UTF-16 unit
    const at = this.reserve(8 + room);
    let written = 0;
    if (s.length <= 32) {
      // short ASCII (most vocabulary entries): a loop beats an encodeInto call
      for (; written < s.length; written++) {
        const u = s.charCodeAt(written);
        if (u >= 0x80) break;
        this.buf[at + 8 + written] = u;
      }
    }
    if (written < s.length) written = utf8.encodeInto(s, this.buf.subarray(at + 8, at + 8 + room)).written;
    this.view.setUint32(at, written % 2 ** 32, true);
    this.view.setUint32(at + 4, Math.floor(written / 2 ** 32), true);
    this.length = at + 8 + written; // the unused reserve stays zero
    return written;
  }
  padTo(alignment: number): void {
    this.reserve((alignment - (this.length % alignment)) % alignment); // fresh bytes are zero
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const padded = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

class Encoder {
  constructor(private readonly file: string) {}

  fail(field: FieldName, message: string): ModelFileError {
    return new ModelFileError(this.file, nameOf(field), message);
  }

  /** Write `s` as a GGUF string, refusing a non-string, a lone surrogate, or more than `cap` bytes. */
  text(w: ByteWriter, field: FieldName, s: unknown, cap: number, what: string): void {
    if (typeof s !== "string") throw this.fail(field, `expected a string (${what}), found ${s === null ? "null" : typeof s}`);
    if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw this.fail(field, scalarProblem("string", s)!);
    const n = w.string(s);
    if (n > cap) throw this.fail(field, `${what} is ${n} bytes of UTF-8; the limit is ${cap}`);
  }

  scalar(w: ByteWriter, field: string, t: GgufScalarType, v: unknown): void {
    if (t === "string") {
      this.text(w, field, v, GGUF_MAX_STRING_BYTES, "string");
      return;
    }
    const problem = scalarProblem(t, v);
    if (problem) throw this.fail(field, problem);
    if (t === "bool") w.u8(v ? 1 : 0);
    else if (t === "u64" || t === "i64") w[t](v as number | bigint);
    else w[t](v as number);
  }

  /** An array's body: i32 item type, u64 count, the items (gguf.cpp writes nested arrays the same way). */
  arrayBody(w: ByteWriter, field: string, type: string, value: unknown, depth: number): void {
    if (depth > 8) throw this.fail(field, "arrays nest deeper than 8 levels");
    const isList = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
    if (!isList) throw this.fail(field, `expected an array or typed array for ${type}, found ${value === null ? "null" : typeof value}`);
    const items = value as ArrayLike<unknown>;
    if (type === "array[]") {
      w.i32(GGUF_TYPE_ARRAY);
      w.u64(items.length);
      for (let i = 0; i < items.length; i++) {
        const inner = items[i] as Partial<GgufTypedValue> | undefined;
        if (!inner || typeof inner.type !== "string" || !inner.type.endsWith("[]") || !isGgufType(inner.type))
          throw this.fail(`${field}[${i}]`, `expected {type: "<item type>[]", value} for an item of array[], found ${JSON.stringify(inner?.type)}`);
        this.arrayBody(w, `${field}[${i}]`, inner.type, inner.value, depth + 1);
      }
      return;
    }
    const item = type.slice(0, -2) as GgufScalarType;
    w.i32(ggufTypeId(item));
    w.u64(items.length);
    const Exact = (NUMERIC_ARRAYS as Partial<Record<GgufScalarType, unknown>>)[item] as (new () => unknown) | undefined;
    if (Exact && value instanceof Exact) {
      // a typed array of exactly this kind holds only valid values: write it without per-item checks
      this.numericRun(w, item as NumericScalarType, items as ArrayLike<number | bigint>);
      return;
    }
    if (item === "string") {
      for (let i = 0; i < items.length; i++) this.text(w, () => `${field}[${i}]`, items[i], GGUF_MAX_STRING_BYTES, "string");
      return;
    }
    for (let i = 0; i < items.length; i++) this.scalar(w, `${field}[${i}]`, item, items[i]);
  }

  private numericRun(w: ByteWriter, t: NumericScalarType, items: ArrayLike<number | bigint>): void {
    const put = { u8: w.u8, i8: w.i8, u16: w.u16, i16: w.i16, u32: w.u32, i32: w.i32, f32: w.f32, f64: w.f64, u64: w.u64, i64: w.i64 }[t] as (
      this: ByteWriter,
      v: number | bigint,
    ) => void;
    for (let i = 0; i < items.length; i++) put.call(w, items[i]!);
  }

  entry(w: ByteWriter, key: string, tv: GgufTypedValue, seen: Set<string>): void {
    const field = `metadata "${key}"`;
    if (!key) throw this.fail(field, "key is empty");
    if (seen.has(key)) throw this.fail(field, "appears twice");
    seen.add(key);
    if (!isGgufType(tv?.type)) throw this.fail(field, `type ${JSON.stringify(tv?.type)} is not a GGUF type; expected u8 … f64, bool, string, "<type>[]" or "array[]"`);
    this.text(w, field, key, GGUF_MAX_KEY_BYTES, "key");
    if (tv.type.endsWith("[]")) {
      w.i32(GGUF_TYPE_ARRAY);
      this.arrayBody(w, field, tv.type, tv.value, 0);
    } else {
      const t = tv.type as GgufScalarType;
      w.i32(ggufTypeId(t));
      this.scalar(w, field, t, tv.value);
    }
  }
}

interface Layout {
  /** Header and tensor infos, padded to the alignment: the data section starts at header.length. */
  header: Uint8Array;
  tensors: readonly GgufTensorInput[];
  alignment: number;
}

function layOut(file: string, input: GgufInput, alignment: number): Layout {
  const enc = new Encoder(file);
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment > 0xffffffff || (alignment & (alignment - 1)) !== 0)
    throw enc.fail("alignment", `expected a power of two that fits a u32, found ${alignment}`);
  const entries: [string, GgufTypedValue][] =
    input.metadata instanceof Map
      ? [...(input.metadata as ReadonlyMap<string, GgufTypedValue>)]
      : (input.metadata as readonly (readonly [string, GgufType, unknown] | GgufKeyValue)[]).map((e) =>
          Array.isArray(e) ? [e[0], { type: e[1], value: e[2] }] : [(e as GgufKeyValue).key, { type: (e as GgufKeyValue).type, value: (e as GgufKeyValue).value }],
        );
  const given = entries.find(([k]) => k === "general.alignment")?.[1];
  if (given && (given.type !== "u32" || given.value !== alignment))
    throw enc.fail(`metadata "general.alignment"`, `expected u32 ${alignment} (the alignment being written), found ${given.type} ${String(given.value)}`);
  if (!given && alignment !== GGUF_DEFAULT_ALIGNMENT) entries.push(["general.alignment", { type: "u32", value: alignment }]);

  const w = new ByteWriter();
  for (const c of "GGUF") w.u8(c.charCodeAt(0));
  w.u32(3);
  w.u64(input.tensors.length);
  w.u64(entries.length);
  const seen = new Set<string>();
  for (const [key, tv] of entries) enc.entry(w, key, tv, seen);

  const names = new Set<string>();
  let offset = 0;
  for (const t of input.tensors) {
    const f = `tensor "${t.name}"`;
    if (!t.name) throw enc.fail(f, "name is empty");
    if (names.has(t.name)) throw enc.fail(f, "appears twice");
    names.add(t.name);
    const type = ggmlTypeByName(t.dtype);
    if (!type) throw enc.fail(`${f} dtype`, `expected one of ${SUPPORTED_TYPE_LIST}, found ${JSON.stringify(t.dtype)}`);
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length > GGML_MAX_DIMS || shape.some((d) => !Number.isSafeInteger(d) || d <= 0))
      throw enc.fail(`${f} shape`, `expected up to ${GGML_MAX_DIMS} positive integers, found ${JSON.stringify(shape)}`);
    const elements = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(elements)) throw enc.fail(`${f} shape`, `${JSON.stringify(shape)} has more than 2^53 − 1 elements`);
    const ne0 = shape[shape.length - 1] ?? 1;
    if (ne0 % type.blockSize !== 0) throw enc.fail(`${f} shape`, `the innermost dimension ${ne0} is not a multiple of ${type.name}'s block size ${type.blockSize}`);
    const nbytes = ggmlTensorBytes(type, elements);
    const given = t.data instanceof Uint8Array || isByteRange(t.data) ? t.data.length : undefined;
    if (given !== nbytes)
      throw enc.fail(`${f} data`, `expected ${nbytes} bytes for ${type.name} ${JSON.stringify(shape)}, found ${given !== undefined ? `${given} bytes` : typeof t.data}`);
    enc.text(w, `${f} name`, t.name, GGML_MAX_NAME_BYTES, "tensor name (GGML_MAX_NAME is 64 with the NUL)");
    w.u32(shape.length);
    for (let j = shape.length - 1; j >= 0; j--) w.u64(shape[j]!);
    w.i32(type.id);
    w.u64(offset);
    offset += padded(nbytes, alignment);
  }
  w.padTo(alignment);
  return { header: w.result(), tensors: input.tensors, alignment };
}

/** The whole file in memory (tests, small models, a browser download). */
export function encodeGguf(input: GgufInput, alignment = GGUF_DEFAULT_ALIGNMENT): Uint8Array {
  const { header, tensors } = layOut("encodeGguf", input, alignment);
  const total = tensors.reduce((n, t) => n + padded(t.data.length, alignment), header.length);
  const out = new Uint8Array(total);
  out.set(header);
  let at = header.length;
  for (const t of tensors) {
    copyBytes(t.data, 0, out.subarray(at, at + t.data.length));
    at += padded(t.data.length, alignment);
  }
  return out;
}

/**
 * Write a GGUF file atomically: streamed to `<path>.<pid>.tmp`, then renamed over `path`. A tensor given as a
 * ByteRange is read WRITE_CHUNK bytes at a time; an error it throws (a source file changed, a check failed) removes
 * the temporary file and is rethrown.
 */
export async function writeGguf(path: string, input: GgufInput, alignment = GGUF_DEFAULT_ALIGNMENT, options: WriteGgufOptions = {}): Promise<void> {
  const { header, tensors } = layOut(path, input, alignment);
  const total = tensors.reduce((n, t) => n + padded(t.data.length, alignment), header.length);
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, "w");
  try {
    let position = 0;
    const put = async (b: Uint8Array) => {
      let done = 0;
      while (done < b.length) {
        const { bytesWritten } = await fh.write(b, done, b.length - done, position + done);
        done += bytesWritten;
      }
      position += b.length;
    };
    await put(header);
    options.onProgress?.(position, total);
    const zeros = new Uint8Array(alignment);
    let chunk: Uint8Array | undefined;
    for (const t of tensors) {
      if (t.data instanceof Uint8Array) await put(t.data);
      else {
        chunk ??= new Uint8Array(WRITE_CHUNK);
        for (const piece of rangePieces(t.data, chunk)) {
          await put(piece);
          options.onProgress?.(position, total);
        }
      }
      const pad = padded(t.data.length, alignment) - t.data.length;
      if (pad) await put(zeros.subarray(0, pad));
      options.onProgress?.(position, total);
    }
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await rename(tmp, path);
}
