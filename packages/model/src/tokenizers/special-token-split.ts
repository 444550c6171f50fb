/**
 * Cutting special tokens out of text before pre-tokenization, as llama.cpp's tokenizer_st_partition does
 * (src/llama-vocab.cpp): tokens are tried longest text first; each one's every occurrence in every remaining
 * text fragment becomes that token, and the text around it stays for the next token to cut. llama.cpp sorts by
 * length with std::sort, which leaves the order of equally long tokens unspecified; here ties go by id.
 *
 * llama.cpp also honours per-token lstrip/rstrip attributes, which it sets only for a few models by name
 * (phi-3, jina-v2, modern-bert; none of them a vocabulary onebit accepts), so they are not modelled.
 */

export interface SpecialToken {
  id: number;
  text: string;
}

/** Text fragments (strings) and special tokens (ids), in order; no empty strings. */
export type Fragment = string | number;

/** Order special tokens for splitOnSpecialTokens: longest text first, then by id. */
export function bySplitPriority(tokens: readonly SpecialToken[]): SpecialToken[] {
  return [...tokens].sort((a, b) => b.text.length - a.text.length || a.id - b.id);
}

/** `tokens` must already be in split priority (bySplitPriority). */
export function splitOnSpecialTokens(text: string, tokens: readonly SpecialToken[]): Fragment[] {
  let fragments: Fragment[] = text.length > 0 ? [text] : [];
  for (const token of tokens) {
    if (!text.includes(token.text)) continue;
    const next: Fragment[] = [];
    for (const f of fragments) {
      if (typeof f === "number") {
        next.push(f);
        continue;
      }
      let at = 0;
      for (let hit = f.indexOf(token.text); hit >= 0; hit = f.indexOf(token.text, at)) {
        if (hit > at) next.push(f.slice(at, hit));
        next.push(token.id);
        at = hit + token.text.length;
      }
      if (at < f.length) next.push(f.slice(at));
    }
    fragments = next;
  }
  return fragments;
}
