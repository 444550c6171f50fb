/**
 * The text of a generation as it grows token by token, cut at the first stop string. Text that could still turn
 * into a stop string (a suffix that is a stop string's prefix) or that ends in an incomplete UTF-8 character
 * (U+FFFD: a byte-level BPE token can split a character) is held back, so a streaming client never receives
 * text that the stop string later takes away.
 */
import { ModelInputError } from "../model-input-error";
export class StopText {
  private readonly ids: number[] = [];
  private emitted = 0;
  private full = "";
  /** True once a stop string was found; the text ends right before it. */
  stopped = false;

  constructor(
    private readonly decode: (ids: readonly number[]) => string,
    private readonly stops: readonly string[] = [],
  ) {
    stops.forEach((s, i) => {
      if (typeof s !== "string" || s.length === 0) throw new ModelInputError(`stop[${i}]: expected a non-empty string, found ${JSON.stringify(s)}`);
    });
  }

  /** Add a token; returns the text that is now safe to emit ("" while held back). */
  push(id: number): string {
    if (this.stopped) return "";
    this.ids.push(id);
    const text = this.decode(this.ids);
    this.full = text;
    let cut = -1;
    for (const s of this.stops) {
      // held-back text was never emitted, so a stop string can only begin after what was emitted minus its length
      const at = text.indexOf(s, Math.max(0, this.emitted - s.length + 1));
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.full = text.slice(0, Math.max(cut, this.emitted));
      return this.take(this.full.length);
    }
    let end = text.endsWith("\uFFFD") ? text.length - 1 : text.length;
    let hold = 0;
    for (const s of this.stops)
      for (let k = Math.min(s.length - 1, end - this.emitted); k > hold; k--)
        if (text.endsWith(s.slice(0, k), end)) {
          hold = k;
          break;
        }
    end -= hold;
    return this.take(end);
  }

  /** Whatever is still held back (the generation ended without completing a stop string). */
  flush(): string {
    return this.take(this.full.length);
  }

  /** Everything emitted so far. */
  get text(): string {
    return this.full.slice(0, this.emitted);
  }

  private take(end: number): string {
    if (end <= this.emitted) return "";
    const piece = this.full.slice(this.emitted, end);
    this.emitted = end;
    return piece;
  }
}
