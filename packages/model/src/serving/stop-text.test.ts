import { describe, expect, it } from "vitest";
import { StopText } from "./stop-text";

/** One character per token: id 0 → "a", 1 → "b", … */
const decode = (ids: readonly number[]) => ids.map((i) => String.fromCharCode(97 + i)).join("");
const ids = (s: string) => [...s].map((c) => c.charCodeAt(0) - 97);

function run(text: string, stops: string[]): { pieces: string[]; stopped: boolean; all: string } {
  const st = new StopText(decode, stops);
  const pieces: string[] = [];
  for (const id of ids(text)) {
    pieces.push(st.push(id));
    if (st.stopped) break;
  }
  if (!st.stopped) pieces.push(st.flush());
  return { pieces, stopped: st.stopped, all: st.text };
}

describe("StopText", () => {
  it("passes text through without stop strings", () => {
    expect(run("abc", [])).toEqual({ pieces: ["a", "b", "c", ""], stopped: false, all: "abc" });
  });
  it("cuts at a stop string and holds back its possible start", () => {
    const r = run("abcdxyz", ["cd"]);
    expect(r.pieces).toEqual(["a", "b", "", ""]);
    expect(r).toMatchObject({ stopped: true, all: "ab" });
  });
  it("releases held-back text that did not become a stop string", () => {
    const r = run("abcef", ["cd"]);
    expect(r.pieces.join("")).toBe("abcef");
    expect(r.stopped).toBe(false);
  });
  it("cuts at the earliest of several stop strings", () => {
    expect(run("abcdef", ["de", "bc"]).all).toBe("a");
  });
  it("names a bad stop string", () => {
    expect(() => new StopText(decode, [""])).toThrow('stop[0]: expected a non-empty string, found ""');
  });
});
