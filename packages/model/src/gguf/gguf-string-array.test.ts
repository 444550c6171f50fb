import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GgufStringArray, invalidUtf8At, rawStringArray } from "./gguf-string-array";

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const valid = (b: Uint8Array) => {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
};
// bytes biased toward the edges of UTF-8: ASCII, continuation bytes, every kind of lead, invalid bytes
const byte = fc.oneof(
  fc.integer({ min: 0x00, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xbf }),
  fc.constantFrom(0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xff, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf),
);
const text = fc.string({ unit: "binary", maxLength: 16 });

describe("invalidUtf8At", () => {
  it("accepts exactly what TextDecoder (fatal) accepts, on any range", () => {
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 24 }), fc.nat(30), fc.nat(30), (bytes, x, y) => {
        const b = Uint8Array.from(bytes);
        const start = Math.min(x, y, b.length);
        const end = Math.min(Math.max(x, y), b.length);
        expect(invalidUtf8At(b, start, end) < 0).toBe(valid(b.subarray(start, end)));
      }),
      { numRuns: 5000 },
    );
  });

  it("accepts any well-formed text", () => {
    fc.assert(
      fc.property(text, (t) => {
        const b = new TextEncoder().encode(t);
        expect(invalidUtf8At(b, 0, b.length)).toBe(-1);
      }),
    );
  });
});

describe("GgufStringArray", () => {
  it("gives back the strings it was made from, one by one and all at once in any decode chunking", () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (strings, chunk) => {
        const wellFormed = strings.map((s) => new TextDecoder().decode(new TextEncoder().encode(s)));
        const a = GgufStringArray.fromStrings(strings);
        expect(a.length).toBe(strings.length);
        expect(a.toArray()).toBe(strings); // the same array: lone surrogates stay as given
        // from the bytes alone (as the GGUF reader makes it): TextEncoder's text
        const raw = new GgufStringArray(a.bytes, a.starts);
        for (let i = 0; i < strings.length; i++) expect(raw.get(i)).toBe(wellFormed[i]);
        expect(raw.toArray(chunk)).toEqual(wellFormed);
        expect(raw.toArray()).toBe(raw.toArray(chunk)); // made once
      }),
    );
  });

  it("keeps a leading byte-order mark", () => {
    const a = new GgufStringArray(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61, 0x62), Int32Array.of(0, 4, 5));
    expect(a.toArray()).toEqual(["\ufeffa", "b"]);
    expect(a.get(0)).toBe("\ufeffa");
  });

  it("rawStringArray finds the bytes only on a GGUF source's metadata", () => {
    expect(rawStringArray(new Map([["k", ["a"]]]), "k")).toBeUndefined();
  });
});
