/**
 * GGUF metadata value types (gguf.h's enum gguf_type) and how onebit names and holds them. llama.cpp reads every
 * key with one exact type (gguf_get_val_u32 on an i32 key aborts), so each value carries its type:
 *
 *   "u8" "i8" "u16" "i16" "u32" "i32" "f32" "f64"  → number
 *   "u64" "i64"                                    → bigint
 *   "bool" → boolean, "string" → string
 *   "<scalar>[]": a GGUF array of that item type   → Uint8Array … Float64Array, BigUint64Array, BigInt64Array,
 *                                                    boolean[], string[]
 *   "array[]": an array of arrays                  → GgufTypedValue[] (each of an array type, as items may differ)
 */

export type GgufScalarType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "bool" | "string" | "u64" | "i64" | "f64";
export type GgufArrayType = `${GgufScalarType}[]` | "array[]";
export type GgufType = GgufScalarType | GgufArrayType;

export interface GgufTypedValue {
  type: GgufType;
  value: unknown;
}

/** A metadata entry as a record (the writer also takes `[key, type, value]` tuples). */
export interface GgufKeyValue extends GgufTypedValue {
  key: string;
}

/** gguf.h: GGUF_TYPE_UINT8 = 0 … GGUF_TYPE_FLOAT64 = 12; 9 is GGUF_TYPE_ARRAY. */
export const GGUF_TYPE_ARRAY = 9;
const IDS: Record<GgufScalarType, number> = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, u64: 10, i64: 11, f64: 12 };
const BY_ID: readonly (GgufScalarType | undefined)[] = Object.entries(IDS).reduce<(GgufScalarType | undefined)[]>((a, [k, v]) => {
  a[v] = k as GgufScalarType;
  return a;
}, []);

/** Fixed byte size of a scalar (0 for string, whose size is its length prefix plus bytes). */
export const SCALAR_BYTES: Record<GgufScalarType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, string: 0, u64: 8, i64: 8, f64: 8 };

export function ggufTypeId(t: GgufScalarType): number {
  return IDS[t];
}

export function ggufScalarById(id: number): GgufScalarType | undefined {
  return BY_ID[id];
}

export function isGgufType(t: unknown): t is GgufType {
  if (typeof t !== "string") return false;
  const base = t.endsWith("[]") ? t.slice(0, -2) : t;
  return base in IDS || t === "array[]";
}

/** Typed-array constructors for numeric arrays (GGUF is little endian; so are the hosts onebit runs on). */
export const NUMERIC_ARRAYS = {
  u8: Uint8Array,
  i8: Int8Array,
  u16: Uint16Array,
  i16: Int16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
  u64: BigUint64Array,
  i64: BigInt64Array,
} as const;
export type NumericScalarType = keyof typeof NUMERIC_ARRAYS;

export function isNumericScalar(t: GgufScalarType): t is NumericScalarType {
  return t in NUMERIC_ARRAYS;
}

const INT_RANGES: Partial<Record<GgufScalarType, readonly [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};
const BIG_RANGES: Partial<Record<GgufScalarType, readonly [bigint, bigint]>> = {
  u64: [0n, 0xffffffffffffffffn],
  i64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

/**
 * Why `v` cannot be stored as scalar type `t`, or undefined when it can. 64-bit integers take a bigint or a safe
 * integer number; strings must be well-formed UTF-16 (a lone surrogate would be written as U+FFFD).
 */
export function scalarProblem(t: GgufScalarType, v: unknown): string | undefined {
  const found = () => (typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : typeof v === "bigint" ? `${v}n` : String(v));
  const intRange = INT_RANGES[t];
  if (intRange) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < intRange[0] || v > intRange[1])
      return `expected an integer in [${intRange[0]}, ${intRange[1]}] for ${t}, found ${found()}`;
    return undefined;
  }
  const bigRange = BIG_RANGES[t];
  if (bigRange) {
    const b = typeof v === "bigint" ? v : typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : undefined;
    if (b === undefined || b < bigRange[0] || b > bigRange[1]) return `expected a bigint (or safe integer) in [${bigRange[0]}, ${bigRange[1]}] for ${t}, found ${found()}`;
    return undefined;
  }
  if (t === "f32" || t === "f64") return typeof v === "number" ? undefined : `expected a number for ${t}, found ${found()}`;
  if (t === "bool") return typeof v === "boolean" ? undefined : `expected a boolean, found ${found()}`;
  if (typeof v !== "string") return `expected a string, found ${found()}`;
  if (!(v as unknown as { isWellFormed(): boolean }).isWellFormed()) return `expected well-formed text, found a lone surrogate in ${found()}`;
  return undefined;
}
