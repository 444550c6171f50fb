/**
 * Typed reads of GGUF metadata values, each failing with the file, the key, what was expected and what was
 * found (ModelFileError). Integers may arrive as numbers or, for 64-bit types, bigints; integer arrays as
 * plain arrays or typed arrays — whatever the GGUF reader produced.
 */
import { ModelFileError } from "../weights/weight-source";

export type GgufMetadata = ReadonlyMap<string, unknown>;

function describe(v: unknown): string {
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return `an array of ${(v as ArrayLike<unknown>).length}`;
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === "bigint") return `${v}`;
  return v === null ? "null" : typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}

export function metaString(meta: GgufMetadata, key: string, file: string): string | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new ModelFileError(file, key, `expected a string, found ${describe(v)}`);
  return v;
}

export function metaBool(meta: GgufMetadata, key: string, file: string): boolean | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new ModelFileError(file, key, `expected a bool, found ${describe(v)}`);
  return v;
}

/** A token id: an integer in [0, vocabSize). */
export function metaTokenId(meta: GgufMetadata, key: string, file: string, vocabSize: number): number | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n >= vocabSize)
    throw new ModelFileError(file, key, `expected a token id in [0, ${vocabSize}), found ${describe(v)}`);
  return n;
}

export function metaStringArray(meta: GgufMetadata, key: string, file: string): string[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ModelFileError(file, key, `expected an array of strings, found ${describe(v)}`);
  for (let i = 0; i < v.length; i++)
    if (typeof v[i] !== "string") throw new ModelFileError(file, `${key}[${i}]`, `expected a string, found ${describe(v[i])}`);
  return v as string[];
}

export function metaIntArray(meta: GgufMetadata, key: string, file: string): number[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView)))
    throw new ModelFileError(file, key, `expected an array of integers, found ${describe(v)}`);
  const arr = v as ArrayLike<unknown>;
  const out = new Array<number>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    const n = typeof x === "bigint" ? Number(x) : x;
    if (typeof n !== "number" || !Number.isInteger(n)) throw new ModelFileError(file, `${key}[${i}]`, `expected an integer, found ${describe(x)}`);
    out[i] = n;
  }
  return out;
}
