import { describe, expect, it } from "vitest";
import { formatDuration, formatRate, ProgressBar } from "./progress-bar";

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => (out.push(s), true) } };
}

describe("ProgressBar", () => {
  it("renders fraction, fields and an ETA from elapsed time", () => {
    let t = 0;
    const { stream } = sink(true);
    const bar = new ProgressBar({ total: 100, width: 10, stream, now: () => t, label: "train" });
    t = 10_000; // 10 s for 25 units → 30 s left
    expect(bar.render(25, { loss: "3.20" })).toBe("train [###-------] 25/100 25% loss 3.20 · ETA 30s");
  });
  it("redraws in place on a TTY and prints throttled lines elsewhere", () => {
    let t = 0;
    const tty = sink(true);
    const a = new ProgressBar({ total: 4, stream: tty.stream, now: () => t });
    a.update(1);
    a.update(2);
    expect(tty.out.every((s) => s.startsWith("\r"))).toBe(true);
    const plain = sink(false);
    const b = new ProgressBar({ total: 4, stream: plain.stream, now: () => t, plainEverySec: 10 });
    b.update(1);
    t = 1000;
    b.update(2); // throttled
    t = 20_000;
    b.update(3);
    b.update(4); // left to finish()
    expect(plain.out.length).toBe(2);
    b.finish();
    expect(plain.out.length).toBe(3);
    expect(plain.out[2]).toMatch(/4\/4 100%/);
    expect(plain.out.every((s) => s.endsWith("\n"))).toBe(true);
  });
  it("rejects a non-positive total", () => {
    expect(() => new ProgressBar({ total: 0 })).toThrow(/total must be a positive number/);
  });
  it("formats durations and rates", () => {
    expect(formatDuration(65)).toBe("1m05s");
    expect(formatDuration(3725)).toBe("1h02m");
    expect(formatDuration(Number.NaN)).toBe("--");
    expect(formatRate(1234)).toBe("1.2k");
    expect(formatRate(2.25)).toBe("2.3");
  });
});
