/**
 * Turns a stream of token ids into printable text pieces. A byte-level BPE token can end in the middle of a
 * UTF-8 character, so a trailing U+FFFD (an incomplete sequence) is held back until the next token completes it.
 */
import type { Tokenizer } from "./tokenizer";

export class TextStreamer {
  private readonly ids: number[] = [];
  private printed = 0;

  constructor(private readonly tokenizer: Tokenizer) {}

  push(id: number): string {
    this.ids.push(id);
    let text = this.tokenizer.decode(this.ids);
    if (text.endsWith("\uFFFD")) text = text.slice(0, -1);
    if (text.length <= this.printed) return "";
    const piece = text.slice(this.printed);
    this.printed = text.length;
    return piece;
  }

  /** Whatever is still held back (at the end of generation). */
  flush(): string {
    const text = this.tokenizer.decode(this.ids);
    const piece = text.slice(this.printed);
    this.printed = text.length;
    return piece;
  }
}
