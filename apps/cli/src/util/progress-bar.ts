/**
 * A progress bar for long work (training, benchmarks): `[#####-----] 512/1000 51% loss 3.21 · 1.2k tok/s · ETA 1m05s`.
 * On a TTY it redraws one line; elsewhere (CI logs, pipes) it prints a plain line at most every `plainEverySec`.
 */
export interface ProgressBarOptions {
  total: number;
  label?: string;
  width?: number;
  stream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  plainEverySec?: number;
  /** Clock in ms; injectable for tests. */
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "--";
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(perSecond >= 10 ? 0 : 1);
}

export class ProgressBar {
  private readonly total: number;
  private readonly label: string;
  private readonly width: number;
  private readonly stream: NonNullable<ProgressBarOptions["stream"]>;
  private readonly plainEverySec: number;
  private readonly now: () => number;
  private readonly start: number;
  private lastPlain = Number.NEGATIVE_INFINITY;
  private lastLine = "";
  private finished = false;

  constructor(options: ProgressBarOptions) {
    if (!Number.isFinite(options.total) || options.total <= 0)
      throw new RangeError(`ProgressBar: total must be a positive number, got ${options.total}`);
    this.total = options.total;
    this.label = options.label ?? "";
    this.width = options.width ?? 24;
    this.stream = options.stream ?? process.stderr;
    this.plainEverySec = options.plainEverySec ?? 10;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** The line for `done` units finished, with extra `fields` (e.g. {loss: "3.21", "tok/s": "1.2k"}). */
  render(done: number, fields: Record<string, string> = {}): string {
    const frac = Math.min(1, Math.max(0, done / this.total));
    const filled = Math.round(frac * this.width);
    const elapsed = (this.now() - this.start) / 1000;
    const eta = done > 0 ? (elapsed * (this.total - done)) / done : Number.NaN;
    const extras = Object.entries(fields).map(([k, v]) => `${k} ${v}`);
    extras.push(done >= this.total ? `took ${formatDuration(elapsed)}` : `ETA ${formatDuration(eta)}`);
    const head = this.label ? `${this.label} ` : "";
    return `${head}[${"#".repeat(filled)}${"-".repeat(this.width - filled)}] ${done}/${this.total} ${Math.floor(frac * 100)}% ${extras.join(" · ")}`;
  }

  update(done: number, fields: Record<string, string> = {}): void {
    if (this.finished) return;
    const line = this.render(done, fields);
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.lastLine = line;
    } else {
      // plain output: throttled; the final line is left to finish()
      const t = this.now() / 1000;
      if (t - this.lastPlain >= this.plainEverySec && done < this.total) {
        this.lastPlain = t;
        this.stream.write(`${line}\n`);
        this.lastLine = line;
      }
    }
  }

  /** Leave the final line on screen. */
  finish(fields: Record<string, string> = {}, done = this.total): void {
    if (this.finished) return;
    const line = this.render(done, fields);
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${line}\n` : line === this.lastLine ? "" : `${line}\n`);
    this.finished = true;
  }
}
