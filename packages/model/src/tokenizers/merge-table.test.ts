import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MergeTable } from "./merge-table";

/** [rank, merged] of every pair (l, r) with l, r < ids, or −1 when absent. */
function contents(t: MergeTable, ids: number): Int32Array {
  const out = new Int32Array(ids * ids * 2);
  for (let l = 0; l < ids; l++)
    for (let r = 0; r < ids; r++) {
      const s = t.find(l, r);
      out[2 * (l * ids + r)] = s < 0 ? -1 : t.rankAt(s);
      out[2 * (l * ids + r) + 1] = s < 0 ? -1 : t.mergedAt(s);
    }
  return out;
}

function bothWays(merges: Array<[number, number, number]>): [MergeTable, MergeTable] {
  const one = new MergeTable(merges.length);
  merges.forEach(([l, r, m], rank) => one.addIfAbsent(l, r, rank, m));
  const all = new MergeTable(merges.length);
  all.addAll(Int32Array.from(merges, (x) => x[0]), Int32Array.from(merges, (x) => x[1]), Int32Array.from(merges, (x) => x[2]));
  return [one, all];
}

describe("MergeTable", () => {
  it("addAll gives the table rank-by-rank addIfAbsent gives: the first rank of a repeated pair wins", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(30), fc.nat(30), fc.nat(1000)), { maxLength: 300 }), (merges) => {
        const [one, all] = bothWays(merges);
        expect(all.size).toBe(one.size);
        expect(contents(all, 32)).toEqual(contents(one, 32));
      }),
      { numRuns: 200 },
    );
  });

  it("addAll over a table of many regions (60 000 merges, a third of them repeats)", () => {
    let seed = 5;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const merges = Array.from({ length: 60_000 }, () => [next(300), next(300), next(1 << 20)] as [number, number, number]);
    const [one, all] = bothWays(merges);
    expect(all.size).toBe(one.size);
    expect(one.size).toBeLessThan(50_000);
    expect(contents(all, 301)).toEqual(contents(one, 301));
  });

  it("holds the merges it was sized for and refuses more", () => {
    const t = new MergeTable(3);
    for (let i = 0; i < 10; i++) t.addIfAbsent(i, i + 1, i, 100 + i); // room for 5/8 of 16 slots
    expect(t.size).toBe(10);
    expect(t.rankAt(t.find(4, 5))).toBe(4);
    expect(t.mergedAt(t.find(4, 5))).toBe(104);
    expect(t.find(5, 4)).toBe(-1);
    t.addIfAbsent(4, 5, 99, 0); // a repeat: ignored
    expect(t.rankAt(t.find(4, 5))).toBe(4);
    expect(() => t.addIfAbsent(50, 0, 10, 0)).toThrow(/more than the 10 merges it was sized for/);
  });
});
