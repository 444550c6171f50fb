import { describe, expect, it } from "vitest";
import { lazyBytes } from "./lazy-bytes";

const source = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff);

/** Reads [0, length) in pieces of `piece` bytes, as writeGguf does. */
function readAll(r: ReturnType<typeof lazyBytes>, piece: number): Uint8Array {
  const out = new Uint8Array(r.length);
  for (let at = 0; at < r.length; at += piece) r.copyTo(at, out.subarray(at, Math.min(r.length, at + piece)));
  return out;
}

describe("lazyBytes", () => {
  it("makes the bytes on the first read, once for a read in order to the end, and again after it (not kept)", () => {
    let made = 0;
    const r = lazyBytes(
      source.length,
      () => {
        made++;
        return source.slice();
      },
      "blk.0.ffn_up.weight",
    );
    expect(made).toBe(0);
    expect(readAll(r, 64)).toEqual(source);
    expect(made).toBe(1);
    expect(readAll(r, 1000)).toEqual(source);
    expect(made).toBe(2);
    // a read that stops short keeps them for the next piece
    const head = new Uint8Array(10);
    r.copyTo(0, head);
    r.copyTo(500, head);
    expect(head).toEqual(source.subarray(500, 510));
    expect(made).toBe(3);
  });

  it("refuses bytes of the wrong length, naming the tensor, and reads outside the range", () => {
    let made = 0;
    const r = lazyBytes(
      1000,
      () => {
        made++;
        return new Uint8Array(999);
      },
      "blk.3.attn_q.weight",
    );
    expect(() => r.copyTo(0, new Uint8Array(8))).toThrow(/blk\.3\.attn_q\.weight: made 999 bytes, expected 1000/);
    expect(() => r.copyTo(0, new Uint8Array(8))).toThrow(/made 999 bytes/); // not kept: made again, refused again
    expect(made).toBe(2);
    const ok = lazyBytes(1000, () => source, "t");
    expect(() => ok.copyTo(995, new Uint8Array(8))).toThrow(/t: bytes \[995, 1003\) are outside its 1000 bytes/);
    expect(() => ok.copyTo(-1, new Uint8Array(1))).toThrow(/outside/);
  });
});
