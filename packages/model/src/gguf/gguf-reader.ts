/**
 * GGUF v2/v3 reader over a ByteSource (a Node file or a browser Blob): the header is parsed incrementally and
 * validated before anything is allocated; tensor bytes are read on demand. Layout (gguf.cpp, little endian):
 *
 *   "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv      × ( string key | i32 value type | value )
 *   n_tensors × ( string name | u32 n_dims | u64 ne[n_dims] | i32 ggml type | u64 offset )
 *   zero padding to general.alignment (u32, default 32) — the data section starts here
 *   tensor data, each at data start + offset (a multiple of the alignment)
 *
 *   string = u64 byte length + UTF-8 bytes; array = i32 item type + u64 count + items (items may be arrays)
 *
 * Checks, after gguf.cpp's gguf_init_from_reader and llama.cpp's loader (which adds the file-bounds check):
 * magic; version 2 or 3 (v1 used 32-bit counts; a byte-swapped version means a big-endian file); counts no larger
 * than the file could hold; each length within the bytes left and a cap; keys and tensor names non-empty and
 * unique; names under GGML_MAX_NAME (64, with the NUL); n_dims ≤ 4; dimensions positive with a safe-integer
 * product; ne[0] a multiple of the type's block size; general.alignment a u32 power of two; tensor offsets
 * aligned, inside the file and not overlapping. Unlike gguf.cpp, bools must be 0 or 1 and strings valid UTF-8.
 * Errors are ModelFileErrors naming the file, the key or tensor, the expected and the found value.
 */
import type { ByteRange } from "@onebit/kernels";
import { ByteRangeError, type ByteSource, fileByteSource } from "../weights/byte-source";
import { tensorRange } from "../weights/tensor-range";
import { ModelFileError, type TensorEntry, type WeightSource } from "../weights/weight-source";
import { type FieldName, GgufCursor } from "./gguf-cursor";
import { GgufStringArray, invalidUtf8At, STRING_ARRAYS } from "./gguf-string-array";
import {
  GGUF_TYPE_ARRAY,
  type GgufScalarType,
  type GgufType,
  type GgufTypedValue,
  ggufScalarById,
  isNumericScalar,
  NUMERIC_ARRAYS,
  type NumericScalarType,
  SCALAR_BYTES,
} from "./gguf-value-types";
import { type GgmlTensorType, ggmlTensorBytes, ggmlTypeById, ggmlTypeLabel, SUPPORTED_TYPE_LIST } from "./ggml-tensor-types";

export const GGUF_MAGIC = "GGUF";
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Keys are short ("tokenizer.ggml.token_type"); a megabyte-long key is corruption. */
export const GGUF_MAX_KEY_BYTES = 1 << 16;
/** gguf.cpp allows 1 GiB; V8 strings end near 2^29 UTF-16 units, so onebit stops at 256 MiB. */
export const GGUF_MAX_STRING_BYTES = 1 << 28;
/** gguf.cpp's GGUF_MAX_ARRAY_ELEMENTS. */
export const GGUF_MAX_ARRAY_ELEMENTS = 1 << 30;
/** GGML_MAX_NAME is 64 including the terminating NUL. */
export const GGML_MAX_NAME_BYTES = 63;
export const GGML_MAX_DIMS = 4;
const MAX_ARRAY_DEPTH = 8;
/** Smallest possible metadata entry: key length, one key byte, type, a one-byte value. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1;
/** Smallest possible tensor info: name length, one name byte, n_dims (0), type, offset. */
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 4 + 8;
const HEADER_BYTES = 24;

export interface GgufTensorEntry extends TensorEntry {
  /** The ggml_type id in the file. */
  readonly typeId: number;
  /** ggml's ne, innermost dimension first, n_dims of them (`shape` is its reverse). */
  readonly ne: readonly number[];
  /** Offset of the data within the data section, as stored. */
  readonly offset: number;
  /** Absolute offset of the data in the file. */
  readonly fileOffset: number;
}

export interface GgufSource extends WeightSource {
  readonly format: "gguf";
  readonly version: number;
  readonly alignment: number;
  /** Absolute offset of the data section. */
  readonly dataOffset: number;
  /**
   * Every key with its GGUF type, in file order (`metadata` holds the same values without types). A top-level
   * string array is held as its UTF-8 bytes until its value is first read (from either map, or by iterating
   * `metadata`); both then hand out the same string[].
   */
  readonly typedMetadata: ReadonlyMap<string, GgufTypedValue>;
  readonly tensors: ReadonlyMap<string, GgufTensorEntry>;
  /** A metadata value that must be present with exactly this type (llama.cpp's loader is as strict). */
  metadataValue(key: string, type: GgufType): unknown;
  /**
   * The bytes of rows firstRow .. firstRow + rowCount − 1 of a row-blocked tensor seen as [rows, ne[0]] (rows =
   * the product of the outer dimensions): an embedding lookup reads one token's row, not the table.
   */
  readRows(name: string, firstRow: number, rowCount: number): Promise<Uint8Array>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `bytes` came from file offset `offset`. */
function decodeUtf8(c: GgufCursor, field: FieldName, bytes: Uint8Array, offset: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw c.error(field, `is not valid UTF-8 (${bytes.length} bytes at offset ${offset})`);
  }
}

function checkLength(c: GgufCursor, field: FieldName, length: number, cap: number, capReason: string): void {
  if (length > cap) throw c.error(field, `length ${length} exceeds the limit of ${cap} bytes${capReason}`);
  if (length > c.remaining) throw c.error(field, `length ${length} runs past the end of the file (${c.remaining} bytes left at offset ${c.pos})`);
}

/** Text of one string array past this is refused (item offsets are int32; no real vocabulary comes near it). */
export const GGUF_MAX_STRING_ARRAY_BYTES = 2 ** 31 - 1;

/**
 * A string array's items as UTF-8 bytes back to back (gguf-string-array.ts): no JS string is made here. Items that
 * lie wholly in the cursor's window are copied and validated in one loop over its bytes; an item that does not is
 * read on its own as readString reads one, with the same checks and errors. Each item must be valid UTF-8 on its
 * own (TextDecoder with fatal: true names the first bad one, as decoding item by item would).
 */
async function readStringArray(c: GgufCursor, field: string, count: number): Promise<GgufStringArray> {
  const a = new StringArrayBuilder(c, field, count);
  while (a.i < count) {
    const { buf, at } = c.window();
    c.skip(a.scan(buf, at) - at);
    if (a.i === count) break;
    // the next item runs past the window: one item as readString reads it (the window is refilled after it)
    const i = a.i;
    if (!c.has(8)) await c.fill(8, `${field}[${i}]`);
    const length = c.u64(`${field}[${i}]`, " length");
    checkLength(c, `${field}[${i}]`, length, GGUF_MAX_STRING_BYTES, "");
    const offset = c.pos;
    const bytes = c.has(length) ? c.bytes(length) : await c.take(length, `${field}[${i}]`);
    a.add(bytes, 0, length, offset);
  }
  return a.finish();
}

/** The items of one string array as they are read: bytes back to back, each item's start. */
class StringArrayBuilder {
  i = 0;
  private total = 0;
  private out: Uint8Array;
  private readonly starts: Int32Array;
  /** The most bytes the items can hold: what is left after their length prefixes, or the cap. */
  private readonly most: number;

  constructor(
    private readonly c: GgufCursor,
    private readonly field: string,
    private readonly count: number,
  ) {
    this.starts = new Int32Array(count + 1); // count × 8 ≤ the bytes left: checked by the caller
    this.most = Math.min(c.remaining - 8 * count, GGUF_MAX_STRING_ARRAY_BYTES);
    this.out = new Uint8Array(Math.min(this.most, 1 << 16)); // grown by doubling
  }

  /** Takes the items that lie wholly in buf[p..]; returns the index after the last one taken. */
  scan(buf: Uint8Array, p: number): number {
    const at = p;
    const end = buf.length;
    while (this.i < this.count && p + 8 <= end) {
      const lo = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
      const hi = buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24);
      if (hi !== 0) break; // ≥ 4 GiB: refused by the one-item path
      const length = lo >>> 0;
      if (p + 8 + length > end) break; // not wholly in the window
      this.add(buf, p + 8, length, this.c.pos + (p + 8 - at));
      p += 8 + length;
    }
    return p;
  }

  /** Item `i` is b[s, s + length), read from file offset `offset`. */
  add(b: Uint8Array, s: number, length: number, offset: number): void {
    const e = s + length;
    let total = this.total;
    if (total + length > this.out.length) this.grow(length);
    const out = this.out;
    let high = 0;
    for (let j = s; j < e; j++) {
      const x = b[j]!;
      high |= x;
      out[total++] = x;
    }
    // all ASCII (most tokens and merges) is valid; otherwise check, and let TextDecoder name the bad item
    if (high >= 0x80 && invalidUtf8At(b, s, e) >= 0) decodeUtf8(this.c, `${this.field}[${this.i}]`, b.subarray(s, e), offset);
    this.starts[this.i++] = this.total;
    this.total = total;
  }

  private grow(n: number): void {
    const { total, out } = this;
    if (total + n > GGUF_MAX_STRING_ARRAY_BYTES)
      throw this.c.error(this.field, `its strings hold more than ${GGUF_MAX_STRING_ARRAY_BYTES} bytes of text (at item ${this.i}); onebit reads at most that much in one array`);
    const grown = new Uint8Array(Math.min(Math.max(total + n, 2 * out.length), this.most));
    grown.set(out.subarray(0, total));
    this.out = grown;
  }

  finish(): GgufStringArray {
    this.starts[this.count] = this.total;
    return new GgufStringArray(this.total === this.out.length ? this.out : this.out.slice(0, this.total), this.starts);
  }
}

/** A top-level string array's typed value: `value` makes the strings on first read (gguf-string-array.ts). */
function lazyStringArrayValue(a: GgufStringArray): GgufTypedValue {
  const v = { type: "string[]" } as GgufTypedValue;
  const settle = (value: unknown) => Object.defineProperty(v, "value", { value, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(v, "value", {
    enumerable: true,
    configurable: true,
    get: () => {
      const strings = a.toArray();
      settle(strings);
      return strings;
    },
    set: settle,
  });
  STRING_ARRAY_OF.set(v, a);
  return v;
}

/** Typed values made by lazyStringArrayValue → their bytes. */
const STRING_ARRAY_OF = new WeakMap<GgufTypedValue, GgufStringArray>();

/**
 * GgufSource.metadata: a Map whose string arrays are made on first access (get, or any iteration), so a load that
 * reads the vocabulary from its bytes (rawStringArray) never makes them.
 */
class GgufMetadataMap extends Map<string, unknown> {
  private readonly pending = new Map<string, GgufTypedValue>();
  readonly [STRING_ARRAYS] = new Map<string, GgufStringArray>();

  constructor(typed: ReadonlyMap<string, GgufTypedValue>) {
    super();
    for (const [k, v] of typed) {
      const raw = STRING_ARRAY_OF.get(v);
      if (raw) {
        this[STRING_ARRAYS].set(k, raw);
        this.pending.set(k, v);
        super.set(k, undefined);
      } else super.set(k, plain(v));
    }
  }

  private settle(key: string): void {
    const v = this.pending.get(key);
    if (v === undefined) return;
    this.pending.delete(key);
    super.set(key, v.value);
  }

  private settleAll(): void {
    for (const k of [...this.pending.keys()]) this.settle(k);
  }

  override get(key: string): unknown {
    this.settle(key);
    return super.get(key);
  }
  override set(key: string, value: unknown): this {
    this.pending?.delete(key);
    this[STRING_ARRAYS]?.delete(key);
    return super.set(key, value);
  }
  override delete(key: string): boolean {
    this.pending.delete(key);
    this[STRING_ARRAYS].delete(key);
    return super.delete(key);
  }
  override clear(): void {
    this.pending.clear();
    this[STRING_ARRAYS].clear();
    super.clear();
  }
  override forEach(callback: (value: unknown, key: string, map: Map<string, unknown>) => void, thisArg?: unknown): void {
    this.settleAll();
    super.forEach(callback, thisArg);
  }
  override entries(): MapIterator<[string, unknown]> {
    this.settleAll();
    return super.entries();
  }
  override values(): MapIterator<unknown> {
    this.settleAll();
    return super.values();
  }
  override [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }
}

async function readString(c: GgufCursor, field: FieldName, cap: number, capReason = ""): Promise<string> {
  if (!c.has(8)) await c.fill(8, field);
  const length = c.u64(field, " length");
  checkLength(c, field, length, cap, capReason);
  const offset = c.pos;
  return decodeUtf8(c, field, c.has(length) ? c.bytes(length) : await c.take(length, field), offset);
}

function readScalar(c: GgufCursor, t: Exclude<GgufScalarType, "string">, field: string): number | bigint | boolean {
  switch (t) {
    case "u8":
      return c.u8();
    case "i8":
      return c.i8();
    case "u16":
      return c.u16();
    case "i16":
      return c.i16();
    case "u32":
      return c.u32();
    case "i32":
      return c.i32();
    case "f32":
      return c.f32();
    case "f64":
      return c.f64();
    case "u64":
      return c.u64big();
    case "i64":
      return c.i64big();
    case "bool": {
      const b = c.u8();
      if (b > 1) throw c.error(field, `bool byte is ${b}; expected 0 or 1`);
      return b === 1;
    }
  }
}

function scalarType(c: GgufCursor, field: string, id: number): GgufScalarType {
  const t = ggufScalarById(id);
  if (!t) throw c.error(field, `value type ${id} is not a GGUF type (expected 0..12)`);
  return t;
}

async function readValue(c: GgufCursor, field: string, typeId: number, depth: number): Promise<GgufTypedValue> {
  if (typeId === GGUF_TYPE_ARRAY) return readArray(c, field, depth);
  const t = scalarType(c, `${field} type`, typeId);
  if (t === "string") return { type: t, value: await readString(c, field, GGUF_MAX_STRING_BYTES) };
  if (!c.has(SCALAR_BYTES[t])) await c.fill(SCALAR_BYTES[t], field);
  return { type: t, value: readScalar(c, t, field) };
}

/** A numeric array from `count` little-endian items in an owned buffer. */
function numericArray(t: NumericScalarType, bytes: Uint8Array, count: number): ArrayLike<number | bigint> {
  const Ctor = NUMERIC_ARRAYS[t];
  const size = SCALAR_BYTES[t];
  if (LITTLE_ENDIAN && bytes.byteOffset % size === 0) return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Ctor(count);
  const get: Record<NumericScalarType, (o: number) => number | bigint> = {
    u8: (o) => view.getUint8(o),
    i8: (o) => view.getInt8(o),
    u16: (o) => view.getUint16(o, true),
    i16: (o) => view.getInt16(o, true),
    u32: (o) => view.getUint32(o, true),
    i32: (o) => view.getInt32(o, true),
    f32: (o) => view.getFloat32(o, true),
    f64: (o) => view.getFloat64(o, true),
    u64: (o) => view.getBigUint64(o, true),
    i64: (o) => view.getBigInt64(o, true),
  };
  for (let i = 0; i < count; i++) (out as unknown as (number | bigint)[])[i] = get[t](i * size);
  return out;
}

async function readArray(c: GgufCursor, field: string, depth: number): Promise<GgufTypedValue> {
  if (!c.has(12)) await c.fill(12, `${field} array header`);
  const itemId = c.i32();
  const count = c.u64(`${field} array length`);
  let minItemBytes: number;
  let itemType: GgufScalarType | "array";
  if (itemId === GGUF_TYPE_ARRAY) {
    if (depth + 1 >= MAX_ARRAY_DEPTH) throw c.error(field, `arrays nest deeper than ${MAX_ARRAY_DEPTH} levels`);
    itemType = "array";
    minItemBytes = 12;
  } else {
    itemType = scalarType(c, `${field} array item type`, itemId);
    minItemBytes = itemType === "string" ? 8 : SCALAR_BYTES[itemType];
  }
  if (count > GGUF_MAX_ARRAY_ELEMENTS) throw c.error(field, `array length ${count} exceeds the limit of ${GGUF_MAX_ARRAY_ELEMENTS} items`);
  if (count * minItemBytes > c.remaining)
    throw c.error(field, `array of ${count} ${itemType} items needs at least ${count * minItemBytes} bytes but ${c.remaining} are left at offset ${c.pos}`);
  if (itemType === "array") {
    const items: GgufTypedValue[] = [];
    for (let i = 0; i < count; i++) items.push(await readArray(c, `${field}[${i}]`, depth + 1));
    return { type: "array[]", value: items };
  }
  if (itemType === "string") {
    const items = await readStringArray(c, field, count);
    // nested arrays are rare and small: their strings are made now
    return depth === 0 ? lazyStringArrayValue(items) : { type: "string[]", value: items.toArray() };
  }
  const bytes = await c.take(count * minItemBytes, field);
  if (itemType === "bool") {
    const items = new Array<boolean>(count);
    for (let i = 0; i < count; i++) {
      if (bytes[i]! > 1) throw c.error(`${field}[${i}]`, `bool byte is ${bytes[i]}; expected 0 or 1`);
      items[i] = bytes[i] === 1;
    }
    return { type: "bool[]", value: items };
  }
  if (!isNumericScalar(itemType)) throw c.error(field, `unhandled item type ${itemType}`); // unreachable: string, bool handled
  return { type: `${itemType}[]`, value: numericArray(itemType, bytes, count) };
}

function plain(v: GgufTypedValue): unknown {
  return v.type === "array[]" ? (v.value as GgufTypedValue[]).map(plain) : v.value;
}

/**
 * Parse and validate a GGUF header; the source stays open for tensor reads until `close()`. When the header is
 * refused the source is left open: it is the caller's (openGgufFile closes the file it opened).
 */
export async function openGguf(source: ByteSource): Promise<GgufSource> {
  const c = new GgufCursor(source);
  const size = source.size;
  if (size < HEADER_BYTES) throw c.error("header", `file has ${size} bytes; a GGUF header needs ${HEADER_BYTES} (magic, version, tensor count, metadata count)`);
  await c.fill(HEADER_BYTES, "header");
  const magic = c.bytes(4);
  if (String.fromCharCode(...magic) !== GGUF_MAGIC) {
    const shown = [...magic].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
    throw c.error("magic", `expected "GGUF", found "${shown}": not a GGUF file`);
  }
  const version = c.u32();
  if (version !== 2 && version !== 3) {
    const why =
      version === 1
        ? "GGUF v1 (32-bit counts) is not supported, as in llama.cpp"
        : (version & 0xffff) === 0 && version !== 0
          ? `byte-swapped: a big-endian GGUF (version ${version >>> 24}), which onebit does not read`
          : "onebit reads versions 2 and 3";
    throw c.error("version", `expected 2 or 3, found ${version}: ${why}`);
  }
  const nTensors = c.u64("tensor count");
  const nKv = c.u64("metadata count");
  const rest = size - HEADER_BYTES;
  if (nKv * MIN_KV_BYTES > rest)
    throw c.error("metadata count", `${nKv} entries need at least ${nKv * MIN_KV_BYTES} bytes but the file has ${rest} after the header`);
  if (nKv * MIN_KV_BYTES + nTensors * MIN_TENSOR_INFO_BYTES > rest)
    throw c.error("tensor count", `${nTensors} tensor infos (after ${nKv} metadata entries) need at least ${nKv * MIN_KV_BYTES + nTensors * MIN_TENSOR_INFO_BYTES} bytes but the file has ${rest} after the header`);

  const typedMetadata = new Map<string, GgufTypedValue>();
  for (let i = 0; i < nKv; i++) {
    const key = await readString(c, `metadata entry ${i} key`, GGUF_MAX_KEY_BYTES);
    if (!key) throw c.error(`metadata entry ${i} key`, "is empty; expected a name such as general.architecture");
    if (typedMetadata.has(key)) throw c.error(`metadata "${key}"`, `appears twice (the second time as entry ${i})`);
    if (!c.has(4)) await c.fill(4, `metadata "${key}" type`);
    typedMetadata.set(key, await readValue(c, `metadata "${key}"`, c.i32(), 0));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const align = typedMetadata.get("general.alignment");
  if (align) {
    if (align.type !== "u32") throw c.error(`metadata "general.alignment"`, `expected type u32, found ${align.type}`);
    alignment = align.value as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw c.error(`metadata "general.alignment"`, `expected a power of two, found ${alignment}`);
  }

  interface Info {
    name: string;
    type: GgmlTensorType;
    typeId: number;
    ne: number[];
    elements: number;
    offset: number;
  }
  const infos: Info[] = [];
  const index = new Map<string, number>();
  for (let i = 0; i < nTensors; i++) {
    const name = await readString(c, `tensor info ${i} name`, GGML_MAX_NAME_BYTES, " (GGML_MAX_NAME is 64 with the NUL)");
    if (!name) throw c.error(`tensor info ${i} name`, "is empty; every tensor needs a name");
    const f = `tensor "${name}"`;
    if (index.has(name)) throw c.error(f, `appears twice (tensor infos ${index.get(name)} and ${i})`);
    index.set(name, i);
    if (!c.has(4)) await c.fill(4, `${f} n_dims`);
    const nDims = c.u32();
    if (nDims > GGML_MAX_DIMS) throw c.error(`${f} n_dims`, `expected at most ${GGML_MAX_DIMS}, found ${nDims}`);
    const fixed = 8 * nDims + 4 + 8;
    if (!c.has(fixed)) await c.fill(fixed, `${f} shape, type and offset`);
    const ne: number[] = [];
    let elements = 1;
    for (let j = 0; j < nDims; j++) {
      const d = c.u64(`${f} ne[${j}]`);
      if (d === 0) throw c.error(`${f} ne[${j}]`, "is 0; expected a positive dimension");
      if (elements > Number.MAX_SAFE_INTEGER / d) throw c.error(`${f} shape`, `ne ${[...ne, d].join("×")}… has more than 2^53 − 1 elements`);
      ne.push(d);
      elements *= d;
    }
    const typeId = c.i32();
    const type = ggmlTypeById(typeId);
    if (!type) throw c.error(`${f} type`, `ggml type ${ggmlTypeLabel(typeId)} is not supported; expected one of ${SUPPORTED_TYPE_LIST}`);
    const ne0 = ne[0] ?? 1;
    if (ne0 % type.blockSize !== 0) throw c.error(`${f} ne[0]`, `${ne0} is not a multiple of ${type.name}'s block size ${type.blockSize}`);
    const offset = c.u64(`${f} offset`);
    if (offset % alignment !== 0) throw c.error(`${f} offset`, `${offset} is not a multiple of the alignment ${alignment}`);
    infos.push({ name, type, typeId, ne, elements, offset });
  }

  const headerEnd = c.pos;
  const dataOffset = Math.ceil(headerEnd / alignment) * alignment;
  if (nTensors > 0 && dataOffset > size)
    throw c.error("data section", `starts at ${dataOffset} (header end ${headerEnd} padded to ${alignment}) but the file has ${size} bytes: truncated`);
  const tensors = new Map<string, GgufTensorEntry>();
  const types = new Map<string, GgmlTensorType>();
  for (const t of infos) {
    const e: GgufTensorEntry = {
      name: t.name,
      dtype: t.type.name,
      shape: [...t.ne].reverse(),
      byteLength: ggmlTensorBytes(t.type, t.elements),
      typeId: t.typeId,
      ne: t.ne,
      offset: t.offset,
      fileOffset: dataOffset + t.offset,
    };
    if (e.fileOffset + e.byteLength > size)
      throw c.error(
        `tensor "${e.name}"`,
        `data at offset ${e.offset} (file offset ${e.fileOffset}) needs ${e.byteLength} bytes for ${e.dtype} [${e.shape.join(", ")}] but the file has ${size} bytes: truncated or a bad offset`,
      );
    tensors.set(t.name, e);
    types.set(t.name, t.type);
  }
  const byOffset = [...tensors.values()].sort((a, b) => a.offset - b.offset);
  for (let k = 1; k < byOffset.length; k++) {
    const a = byOffset[k - 1]!;
    const b = byOffset[k]!;
    if (a.offset + a.byteLength > b.offset)
      throw c.error(`tensor "${b.name}"`, `data [${b.offset}, ${b.offset + b.byteLength}) overlaps tensor "${a.name}"'s [${a.offset}, ${a.offset + a.byteLength})`);
  }
  const metadata = new GgufMetadataMap(typedMetadata);
  return new GgufFile(source, version, alignment, dataOffset, typedMetadata, metadata, tensors, types);
}

/** Open a GGUF file on disk; the file is closed again if its header is refused. */
export async function openGgufFile(path: string): Promise<GgufSource> {
  const source = await fileByteSource(path);
  try {
    return await openGguf(source);
  } catch (e) {
    await source.close();
    throw e;
  }
}

class GgufFile implements GgufSource {
  readonly format = "gguf" as const;

  constructor(
    private readonly source: ByteSource,
    readonly version: number,
    readonly alignment: number,
    readonly dataOffset: number,
    readonly typedMetadata: ReadonlyMap<string, GgufTypedValue>,
    readonly metadata: ReadonlyMap<string, unknown>,
    readonly tensors: ReadonlyMap<string, GgufTensorEntry>,
    private readonly types: ReadonlyMap<string, GgmlTensorType>,
  ) {}

  get path(): string {
    return this.source.name;
  }

  metadataValue(key: string, type: GgufType): unknown {
    const v = this.typedMetadata.get(key);
    if (!v) throw new ModelFileError(this.path, `metadata "${key}"`, `missing; expected a ${type} value`);
    if (v.type !== type) throw new ModelFileError(this.path, `metadata "${key}"`, `expected type ${type}, found ${v.type}`);
    return plain(v);
  }

  private entry(name: string): GgufTensorEntry {
    const e = this.tensors.get(name);
    if (e) return e;
    const names = [...this.tensors.keys()];
    const shown = names.slice(0, 8).join(", ") + (names.length > 8 ? `, … (${names.length - 8} more)` : "");
    throw new ModelFileError(this.path, `tensor "${name}"`, `not in the file; it has ${names.length} tensors${names.length ? `: ${shown}` : ""}`);
  }

  private async readAt(e: GgufTensorEntry, offset: number, length: number): Promise<Uint8Array> {
    try {
      return await this.source.read(offset, length);
    } catch (err) {
      if (err instanceof ByteRangeError) throw new ModelFileError(this.path, `tensor "${e.name}"`, err.message);
      throw err;
    }
  }

  read(name: string): Promise<Uint8Array> {
    const e = this.entry(name);
    return this.readAt(e, e.fileOffset, e.byteLength);
  }

  range(name: string): ByteRange | undefined {
    const e = this.entry(name);
    return tensorRange(this.source, this.path, `tensor "${e.name}"`, e.fileOffset, e.byteLength);
  }

  readRows(name: string, firstRow: number, rowCount: number): Promise<Uint8Array> {
    const e = this.entry(name);
    const type = this.types.get(name)!;
    if (type.layout !== "row")
      throw new ModelFileError(this.path, `tensor "${name}"`, `${type.name} packs the whole tensor in one sweep, not row by row; read it whole`);
    const cols = e.ne[0] ?? 1;
    const rows = e.ne.slice(1).reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(firstRow) || !Number.isSafeInteger(rowCount) || firstRow < 0 || rowCount < 0 || firstRow + rowCount > rows)
      throw new ModelFileError(this.path, `tensor "${name}"`, `rows ${firstRow}..${firstRow + rowCount - 1} requested; it has ${rows} rows of ${cols}`);
    const rowBytes = (cols / type.blockSize) * type.typeSize;
    return this.readAt(e, e.fileOffset + firstRow * rowBytes, rowCount * rowBytes);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
