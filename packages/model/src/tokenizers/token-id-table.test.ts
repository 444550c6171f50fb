import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GgufStringArray } from "../gguf/gguf-string-array";
import { TokenIdTable } from "./token-id-table";

const utf8 = new TextEncoder();

describe("TokenIdTable", () => {
  it("finds a token by a byte range of another buffer, and a concatenation of two ranges, as a Map of slices does", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom("a", "b", "Ġ", "é", "\u{1F600}") }), { minLength: 1, maxLength: 60 }), fc.string({ maxLength: 12, unit: fc.constantFrom("a", "b", "Ġ", "é", " ") }), (tokens, probe) => {
        const table = new TokenIdTable(GgufStringArray.fromStrings(tokens));
        expect(table.firstRepeat).toBeUndefined();
        const map = new Map(tokens.map((t, i) => [t, i]));
        for (const [i, t] of tokens.entries()) {
          const b = utf8.encode(`x${t}y`);
          expect(table.range(b, 1, b.length - 1)).toBe(i);
          expect(table.get(t)).toBe(i);
        }
        // every cut of the probe at character boundaries, as byte offsets
        const chars = [...probe];
        const bytes = utf8.encode(probe);
        const at = [0];
        for (const c of chars) at.push(at[at.length - 1]! + utf8.encode(c).length);
        for (let a = 0; a <= chars.length; a++)
          for (let b = a; b <= chars.length; b++) {
            const sliced = chars.slice(a, b).join("");
            expect(table.range(bytes, at[a]!, at[b]!)).toBe(map.get(sliced));
            expect(table.get(sliced)).toBe(map.get(sliced));
            expect(table.concat(bytes, 0, at[a]!, at[b]!, bytes.length)).toBe(map.get(chars.slice(0, a).join("") + chars.slice(b).join("")));
          }
      }),
      { numRuns: 200 },
    );
  });

  it("keeps the first id of a repeated text and records the first repeat", () => {
    const table = new TokenIdTable(GgufStringArray.fromStrings(["a", "b", "a", "b"]));
    expect(table.firstRepeat).toEqual({ id: 2, of: 0 });
    expect(table.get("a")).toBe(0);
    expect(table.get("")).toBeUndefined();
    expect(table.concat(utf8.encode("a b"), 0, 1, 2, 3)).toBeUndefined();
  });
});
