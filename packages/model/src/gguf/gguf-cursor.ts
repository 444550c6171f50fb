/**
 * A forward reader over a ByteSource for the GGUF header: fields are parsed from a buffered window (64 KiB reads),
 * large payloads (a long string, a numeric array) are read in one piece. Every read is checked against the bytes
 * left in the file before anything is allocated, so a corrupt length can neither over-allocate nor read past the
 * end (gguf.cpp's gguf_reader checks `nbytes_remain` the same way).
 *
 * Hot loops call `has(n)` and only `await fill(n)` when the window runs out, so parsing a 128k-entry vocabulary
 * costs a few dozen reads and no per-field promise.
 */
import type { ByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";

const WINDOW = 1 << 16;

/** A field's name for error messages, or a function making it (hot loops build names only when they fail). */
export type FieldName = string | (() => string);
export const nameOf = (f: FieldName): string => (typeof f === "string" ? f : f());
const TWO_32 = 2 ** 32;

export class GgufCursor {
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0;
  /** Absolute offset of the next byte to parse. */
  pos = 0;

  constructor(readonly source: ByteSource) {}

  get remaining(): number {
    return this.source.size - this.pos;
  }

  error(field: FieldName, message: string): ModelFileError {
    return new ModelFileError(this.source.name, nameOf(field), message);
  }

  /** True when the next `n` bytes are in the window. */
  has(n: number): boolean {
    return this.pos - this.bufStart + n <= this.buf.length;
  }

  /** Bring the next `n` bytes into the window; `field` names what needs them if the file is too short. */
  async fill(n: number, field: FieldName): Promise<void> {
    if (n > this.remaining)
      throw this.error(field, `needs ${n} bytes at offset ${this.pos} but the file ends at ${this.source.size} (${this.remaining} left): truncated`);
    this.buf = await this.source.read(this.pos, Math.min(Math.max(n, WINDOW), this.remaining));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.bufStart = this.pos;
  }

  // Synchronous reads: the caller has made sure the bytes are in the window.
  private at(n: number): number {
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }
  u8(): number {
    return this.buf[this.at(1)]!;
  }
  i8(): number {
    return this.view.getInt8(this.at(1));
  }
  u16(): number {
    return this.view.getUint16(this.at(2), true);
  }
  i16(): number {
    return this.view.getInt16(this.at(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.at(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.at(4), true);
  }
  f32(): number {
    return this.view.getFloat32(this.at(4), true);
  }
  f64(): number {
    return this.view.getFloat64(this.at(8), true);
  }
  u64big(): bigint {
    return this.view.getBigUint64(this.at(8), true);
  }
  i64big(): bigint {
    return this.view.getBigInt64(this.at(8), true);
  }
  /** A u64 that must fit a JS number exactly (a count, a length, an offset, a dimension). */
  u64(field: FieldName, suffix = ""): number {
    const o = this.at(8);
    const lo = this.view.getUint32(o, true);
    const hi = this.view.getUint32(o + 4, true);
    if (hi > 0x1fffff) throw this.error(nameOf(field) + suffix, `${(BigInt(hi) << 32n) | BigInt(lo)} is larger than 2^53 − 1`);
    return hi * TWO_32 + lo;
  }

  /** The window and the index in it of the next byte (for batch parsers that then call `skip`). */
  window(): { buf: Uint8Array; at: number } {
    return { buf: this.buf, at: this.pos - this.bufStart };
  }

  /** Move past `n` bytes of the window a batch parser consumed. */
  skip(n: number): void {
    this.pos += n;
  }

  /** `n` bytes as a view into the window (valid until the next fill); the caller has checked `has(n)`. */
  bytes(n: number): Uint8Array {
    const o = this.at(n);
    return this.buf.subarray(o, o + n);
  }

  /** The next `n` bytes in a fresh, owned, 8-byte-aligned buffer; `n` ≤ remaining is checked here. */
  async take(n: number, field: FieldName): Promise<Uint8Array> {
    if (n > this.remaining)
      throw this.error(field, `needs ${n} bytes at offset ${this.pos} but the file ends at ${this.source.size} (${this.remaining} left): truncated`);
    if (this.has(n)) return this.bytes(n).slice();
    if (n <= WINDOW) {
      await this.fill(n, field);
      return this.bytes(n).slice();
    }
    const out = await this.source.read(this.pos, n);
    this.pos += n;
    return out;
  }
}
