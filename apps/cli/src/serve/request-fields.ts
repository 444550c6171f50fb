/**
 * The sampling fields of /v1/completions and /v1/chat/completions, checked the way OpenAI checks them: a wrong
 * type or range is a 400 whose message and `param` name the field, the expected and the found value. Fields the
 * server does not implement but that change nothing by default (presence_penalty 0, user, …) are ignored.
 */
import { OpenAiError, shown } from "./openai-error";

export interface SamplingFields {
  /** undefined: as many as the context leaves. */
  maxTokens?: number;
  temperature: number;
  topP: number;
  topK?: number;
  seed?: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

type Body = Record<string, unknown>;

function bad(param: string, expected: string, found: unknown): OpenAiError {
  return new OpenAiError(400, `${param}: expected ${expected}, found ${shown(found)}`, param, "invalid_value");
}

function optionalNumber(body: Body, key: string, expected: string, ok: (v: number) => boolean): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) throw bad(key, expected, v);
  return v;
}

/** The body must be a JSON object (not an array, string or null). */
export function requireObject(body: unknown): Body {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new OpenAiError(400, `request body: expected a JSON object, found ${shown(body)}`, null, "invalid_body");
  return body as Body;
}

export function samplingFields(body: Body, maxTokensKeys: readonly string[]): SamplingFields {
  let maxTokens: number | undefined;
  for (const key of maxTokensKeys) maxTokens ??= optionalNumber(body, key, "an integer ≥ 1", (v) => Number.isInteger(v) && v >= 1);
  const temperature = optionalNumber(body, "temperature", "a number in [0, 2]", (v) => v >= 0 && v <= 2) ?? 1;
  const topP = optionalNumber(body, "top_p", "a number in (0, 1]", (v) => v > 0 && v <= 1) ?? 1;
  const topK = optionalNumber(body, "top_k", "an integer ≥ 0 (0 = off)", (v) => Number.isInteger(v) && v >= 0);
  const seed = optionalNumber(body, "seed", "an integer", (v) => Number.isSafeInteger(v));
  optionalNumber(body, "n", "1 (one choice per request)", (v) => v === 1); // checked only: one choice is all we make
  let stop: string[] = [];
  const s = body.stop;
  if (typeof s === "string") stop = [s];
  else if (Array.isArray(s) && s.length <= 4 && s.every((x) => typeof x === "string")) stop = s as string[];
  else if (s !== undefined && s !== null) throw bad("stop", "a string or an array of at most 4 strings", s);
  stop = stop.filter((x) => x.length > 0);
  const stream = body.stream ?? false;
  if (typeof stream !== "boolean" && stream !== null) throw bad("stream", "true or false", stream);
  const so = body.stream_options;
  if (so !== undefined && so !== null && (typeof so !== "object" || Array.isArray(so))) throw bad("stream_options", "an object", so);
  const includeUsage = (so as { include_usage?: unknown } | null | undefined)?.include_usage ?? false;
  if (typeof includeUsage !== "boolean") throw bad("stream_options.include_usage", "true or false", includeUsage);
  return { maxTokens, temperature, topP, topK: topK || undefined, seed: seed === undefined ? undefined : seed >>> 0, stop, stream: stream === true, includeUsage };
}

/** /v1/completions `prompt`: a string, an array of token ids, or an array holding one of those. */
export function promptField(body: Body, encode: (text: string) => number[], vocabSize: number): number[] {
  let p = body.prompt;
  if (Array.isArray(p) && p.length === 1 && (typeof p[0] === "string" || Array.isArray(p[0]))) p = p[0];
  if (typeof p === "string") return encode(p);
  if (Array.isArray(p) && p.length > 0 && p.every((id) => Number.isInteger(id) && id >= 0 && id < vocabSize)) return p as number[];
  throw bad("prompt", `a string or a non-empty array of token ids in [0, ${vocabSize}) (one prompt per request)`, p);
}

export interface ChatMessageField {
  role: string;
  content: string;
}

/** /v1/chat/completions `messages`: [{role, content}], content a string or an array of text parts. */
export function messagesField(body: Body): ChatMessageField[] {
  const m = body.messages;
  if (!Array.isArray(m) || m.length === 0) throw bad("messages", "a non-empty array of {role, content}", m);
  return m.map((msg, i) => {
    const where = `messages[${i}]`;
    if (typeof msg !== "object" || msg === null || typeof (msg as Body).role !== "string") throw bad(`${where}.role`, "a string", (msg as Body | null)?.role);
    const { role, content } = msg as Body;
    if (typeof content === "string") return { role: role as string, content };
    if (content === null || content === undefined) return { role: role as string, content: "" };
    if (Array.isArray(content)) {
      const parts = content.map((part, j) => {
        const p = part as Body | null;
        if (p?.type !== "text" || typeof p.text !== "string") throw bad(`${where}.content[${j}]`, '{type: "text", text: string} (this model reads text only)', part);
        return p.text;
      });
      return { role: role as string, content: parts.join("") };
    }
    throw bad(`${where}.content`, "a string or an array of text parts", content);
  });
}
