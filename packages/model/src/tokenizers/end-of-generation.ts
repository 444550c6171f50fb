/**
 * Which tokens end generation. llama.cpp keeps a set (special_eog_ids, src/llama-vocab.cpp): the EOS, EOT and
 * EOM ids the file names, plus every token whose text is one of the end-of-turn texts below — a model's
 * instruct template ends turns with <|eot_id|> while its EOS is <|end_of_text|>, and a generator must stop at
 * either. llama.cpp also marks these tokens as control tokens whatever their stored type (so they are never
 * matched in plain text and decode to nothing).
 *
 * Also listed are the FIM pad/repo/file-separator texts llama.cpp auto-detects and adds to the set. (It keeps
 * one of each kind, whichever its hash map yields first, and applies two model-specific exclusions for
 * gpt-oss's <|end|> and Gemma 4's </s>; vocabularies onebit accepts contain none of these conflicts.)
 */

export const END_OF_GENERATION_TEXTS: ReadonlySet<string> = new Set([
  "<|eot_id|>",
  "<|im_end|>",
  "<|end|>",
  "<|return|>",
  "<|call|>",
  "<|flush|>",
  "<|calls|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "</s>",
  "<|eom_id|>",
  "<EOT>",
  "_<EOT>",
  "[EOT]",
  "[EOS]",
  "<|end_of_text|>",
  "<end_of_utterance>",
  "<eos>",
  "<turn|>",
  "<|tool_response>",
  "<｜end▁of▁sentence｜>",
  "[e~[",
  // FIM pad, repo and file-separator tokens
  "<|fim_pad|>",
  "<fim-pad>",
  "<fim_pad>",
  "<PAD>",
  "[PAD]",
  "<|fim_repo|>",
  "<|repo_name|>",
  "<fim-repo>",
  "<REPO>",
  "<reponame>",
  "<|file_sep|>",
]);

/** The sorted, de-duplicated stop ids: `named` (EOS, EOT, EOM when known) and the vocabulary's end-of-turn texts. */
export function endOfGenerationIds(named: readonly (number | undefined)[], tokenToId: { get(text: string): number | undefined }): number[] {
  const ids = new Set<number>();
  for (const id of named) if (id !== undefined) ids.add(id);
  for (const text of END_OF_GENERATION_TEXTS) {
    const id = tokenToId.get(text);
    if (id !== undefined) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}
