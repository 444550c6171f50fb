import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenIdTable } from "./token-id-table";

describe("TokenIdTable", () => {
  it("finds a token by a range of another string, and a concatenation of two ranges, as a Map of slices does", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom("a", "b", "Ġ", "é", "\u{1F600}") }), { minLength: 1, maxLength: 60 }), fc.string({ maxLength: 12, unit: fc.constantFrom("a", "b", "Ġ", "é", " ") }), (tokens, probe) => {
        const table = new TokenIdTable(tokens);
        const map = new Map(tokens.map((t, i) => [t, i]));
        for (const [i, t] of tokens.entries()) expect(table.range(`x${t}y`, 1, t.length + 1)).toBe(i);
        for (let a = 0; a <= probe.length; a++)
          for (let b = a; b <= probe.length; b++) {
            expect(table.range(probe, a, b)).toBe(map.get(probe.slice(a, b)));
            expect(table.concat(probe, 0, a, b, probe.length)).toBe(map.get(probe.slice(0, a) + probe.slice(b)));
          }
      }),
      { numRuns: 200 },
    );
  });

  it("keeps the first id of a repeated text", () => {
    const table = new TokenIdTable(["a", "b", "a"]);
    expect(table.range("a", 0, 1)).toBe(0);
    expect(table.range("", 0, 0)).toBeUndefined();
    expect(table.concat("a b", 0, 1, 2, 3)).toBeUndefined();
  });
});
