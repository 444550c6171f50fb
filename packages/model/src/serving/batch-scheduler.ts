/**
 * Continuous batching for a server: up to `parallel` sequences decode together, one token each per step through
 * Transformer.forwardBatch (projection weights read once per step, not once per sequence). Requests wait in a
 * bounded queue and join between steps: a joining request's prompt is prefilled alone with forward(), then it
 * decodes with the others. Each request keeps its own KV cache, sampler state and stop conditions, so a batch
 * produces exactly the tokens each request would produce alone (generate()). An aborted request leaves at once and
 * its cache is freed; a KV-memory budget holds requests back (or refuses one that could never fit).
 */
import type { KvBits, KvCache } from "@onebit/kv";
import { OnebitError } from "@onebit/quant";
import { sampleToken, seededRandom, validateSampling } from "../sampling";
import type { Transformer } from "../transformer";
import { StopText } from "./stop-text";
import { ModelInputError } from "../model-input-error";

export type RejectReason = "queue-full" | "too-large" | "closed";

/** A request the scheduler will not take: the server answers 429 (queue-full) or 400 (too-large). */
export class SchedulerRejectedError extends OnebitError {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super("SERVE_REJECTED", message);
    this.name = "SchedulerRejectedError";
  }
}

export interface ScheduledRequest {
  prompt: readonly number[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  repetitionPenalty?: number;
  seed?: number;
  /** Token ids that end the generation (not part of the output); default: the scheduler's stopTokens. */
  stopTokens?: readonly number[];
  /** Strings that end the generation; the text stops right before the first one found. */
  stop?: readonly string[];
  signal?: AbortSignal;
  /** Each token as it is sampled. */
  onToken?: (id: number, index: number) => void;
  /** Text as it becomes safe to show (stop strings and split UTF-8 characters held back). */
  onText?: (piece: string) => void;
}

export type FinishReason = "stop" | "length" | "abort" | "error";

export interface ScheduledResult {
  tokens: number[];
  text: string;
  promptTokens: number;
  finishReason: FinishReason;
  error?: Error;
}

export interface SchedulerOptions {
  /** Sequences decoded together (slots). */
  parallel: number;
  /** Requests waiting for a slot at most; one more is refused (queue-full). */
  maxQueue: number;
  /** Tokens per sequence, prompt and generation (default: the model's max_position_embeddings). */
  ctx?: number;
  /** KV-cache bytes all slots may hold together (default: unlimited). */
  kvBudgetBytes?: number;
  kvBits?: KvBits;
  /** Default stop tokens (the tokenizer's eosIds; else the model's eos_token_id). */
  stopTokens?: readonly number[];
  /** ids → text, for stop strings and onText (default: no text). */
  decode?: (ids: readonly number[]) => string;
  /** Sample only ids below this (a tokenizer smaller than the embedding). */
  vocabLimit?: number;
}

const RATE_WINDOW_MS = 10_000;

export interface SchedulerMetrics {
  requestsTotal: number;
  requestsRejected: number;
  requestsFinished: Record<FinishReason, number>;
  queueDepth: number;
  activeSlots: number;
  parallel: number;
  promptTokens: number;
  tokensGenerated: number;
  /** Tokens generated per second over the last 10 s (0 when idle). */
  tokensPerSecond: number;
  decodeSteps: number;
  kvBytesInUse: number;
  kvBudgetBytes: number;
}

interface Job {
  req: ScheduledRequest;
  cacheTokens: number;
  kvBytes: number;
  resolve: (r: ScheduledResult) => void;
  onAbort?: () => void;
  cache?: KvCache;
  seen: number[];
  tokens: number[];
  stopTokens: Set<number>;
  random: () => number;
  text: StopText;
  next?: number;
  done: boolean;
}

export class BatchScheduler {
  readonly ctx: number;
  private readonly queue: Job[] = [];
  private readonly active: Job[] = [];
  private readonly kvBytesFirst: number;
  private readonly kvBytesPerToken: number;
  private running = false;
  private closed = false;
  private readonly counters = {
    requestsTotal: 0,
    requestsRejected: 0,
    requestsFinished: { stop: 0, length: 0, abort: 0, error: 0 } as Record<FinishReason, number>,
    promptTokens: 0,
    tokensGenerated: 0,
    decodeSteps: 0,
  };

  constructor(
    readonly model: Transformer,
    readonly options: SchedulerOptions,
  ) {
    const { parallel, maxQueue } = options;
    if (!Number.isInteger(parallel) || parallel < 1) throw new ModelInputError(`scheduler parallel: expected a positive integer, found ${parallel}`);
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new ModelInputError(`scheduler maxQueue: expected an integer ≥ 0, found ${maxQueue}`);
    const maxPos = model.spec.max_position_embeddings;
    this.ctx = options.ctx ?? maxPos;
    if (!Number.isInteger(this.ctx) || this.ctx < 2 || this.ctx > maxPos) throw new ModelInputError(`scheduler ctx: expected an integer in [2, ${maxPos}] (the model's context), found ${options.ctx}`);
    if (options.kvBudgetBytes !== undefined && !(options.kvBudgetBytes > 0)) throw new ModelInputError(`scheduler kvBudgetBytes: expected a positive number, found ${options.kvBudgetBytes}`);
    // a cache's bytes grow linearly with its length (plus a fixed part for 4-bit BOS storage): measure, not guess
    const probe = (n: number) => {
      const c = model.newCache({ maxTokens: n, bits: options.kvBits });
      const b = c.bytes();
      c.dispose();
      return b;
    };
    this.kvBytesFirst = probe(1);
    this.kvBytesPerToken = probe(2) - this.kvBytesFirst;
  }

  /** KV bytes a cache of `tokens` positions holds. */
  kvBytesFor(tokens: number): number {
    return this.kvBytesFirst + this.kvBytesPerToken * (tokens - 1);
  }

  /**
   * Queue a request; the promise settles when it finishes (never rejects: failures come back as finishReason
   * "error"). Throws SchedulerRejectedError when the queue is full or the request could never fit the KV budget,
   * ModelInputError on invalid fields.
   */
  submit(req: ScheduledRequest): Promise<ScheduledResult> {
    this.counters.requestsTotal++;
    try {
      if (this.closed) throw new SchedulerRejectedError("closed", "the scheduler is shut down");
      validateSampling({ temperature: req.temperature, topP: req.topP, topK: req.topK, repetitionPenalty: req.repetitionPenalty });
      const n = req.prompt.length;
      if (n === 0) throw new ModelInputError("prompt: expected at least one token, found 0");
      if (n >= this.ctx) throw new ModelInputError(`prompt: ${n} tokens leave no room to generate in the context of ${this.ctx} tokens`);
      const vocab = this.model.spec.vocab_size;
      req.prompt.forEach((id, i) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new ModelInputError(`prompt[${i}]: expected a token id in [0, ${vocab}), found ${id}`);
      });
      if (!Number.isInteger(req.maxTokens) || req.maxTokens < 1) throw new ModelInputError(`maxTokens: expected a positive integer, found ${req.maxTokens}`);
      const cacheTokens = Math.min(this.ctx, n + req.maxTokens);
      const kvBytes = this.kvBytesFor(cacheTokens);
      const budget = this.options.kvBudgetBytes ?? Number.POSITIVE_INFINITY;
      if (kvBytes > budget) throw new SchedulerRejectedError("too-large", `request needs ${kvBytes} KV-cache bytes (${cacheTokens} tokens), over the budget of ${budget}`);
      // queued requests first fill the free slots at the next step; only those beyond wait
      const waiting = this.queue.length + 1 - (this.options.parallel - this.active.length);
      if (waiting > this.options.maxQueue)
        throw new SchedulerRejectedError("queue-full", `the queue is full: ${this.queue.length} requests wait (at most ${this.options.maxQueue})`);
      const eos = this.model.spec.eos_token_id;
      const stops = req.stopTokens ?? this.options.stopTokens ?? (Array.isArray(eos) ? eos : [eos]);
      const text = new StopText(this.options.decode ?? (() => ""), req.stop ?? []);
      return new Promise<ScheduledResult>((resolve) => {
        const job: Job = { req, cacheTokens, kvBytes, resolve, seen: [...req.prompt], tokens: [], stopTokens: new Set(stops), random: seededRandom(req.seed ?? 0), text, done: false };
        if (req.signal) {
          if (req.signal.aborted) {
            this.finish(job, "abort");
            return;
          }
          job.onAbort = () => this.finish(job, "abort");
          req.signal.addEventListener("abort", job.onAbort, { once: true });
        }
        this.queue.push(job);
        this.kick();
      });
    } catch (e) {
      this.counters.requestsRejected++;
      throw e;
    }
  }

  /** Times (ms) of the tokens generated in the last RATE_WINDOW_MS, oldest first, for tokensPerSecond. */
  private readonly recentTokens: number[] = [];

  private tokensPerSecond(now = performance.now()): number {
    while (this.recentTokens.length > 0 && now - this.recentTokens[0]! > RATE_WINDOW_MS) this.recentTokens.shift();
    return (this.recentTokens.length * 1000) / RATE_WINDOW_MS;
  }

  metrics(): SchedulerMetrics {
    return {
      ...this.counters,
      tokensPerSecond: this.tokensPerSecond(),
      requestsFinished: { ...this.counters.requestsFinished },
      queueDepth: this.queue.length,
      activeSlots: this.active.length,
      parallel: this.options.parallel,
      kvBytesInUse: this.kvBytesInUse(),
      kvBudgetBytes: this.options.kvBudgetBytes ?? 0,
    };
  }

  /** Refuse new requests and end every queued and running one (finishReason "abort"). */
  close(): void {
    this.closed = true;
    for (const job of [...this.queue, ...this.active]) this.finish(job, "abort");
  }

  private kvBytesInUse(): number {
    return this.active.reduce((s, j) => s + j.kvBytes, 0);
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0 || this.active.length > 0) {
        this.admit();
        const batch = this.active.filter((j) => j.next !== undefined);
        if (batch.length > 0) {
          try {
            const logits = this.model.forwardBatch(
              batch.map((j) => j.next!),
              batch.map((j) => j.cache!),
            );
            this.counters.decodeSteps++;
            const vocab = this.model.spec.vocab_size;
            batch.forEach((j, b) => {
              this.consume(j, logits.subarray(b * vocab, (b + 1) * vocab));
            });
          } catch (e) {
            for (const j of batch) this.finish(j, "error", e as Error);
          }
        }
        // between steps: let the server read new requests, write streamed tokens and see aborts
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
    }
  }

  /** Move queued requests into free slots while the KV budget allows (first come, first served), prefilling each. */
  private admit(): void {
    const budget = this.options.kvBudgetBytes ?? Number.POSITIVE_INFINITY;
    while (this.queue.length > 0 && this.active.length < this.options.parallel) {
      const job = this.queue[0]!;
      if (this.active.length > 0 && job.kvBytes > budget - this.kvBytesInUse()) return; // wait for memory
      this.queue.shift();
      this.active.push(job);
      try {
        job.cache = this.model.newCache({ maxTokens: job.cacheTokens, bits: this.options.kvBits });
        this.counters.promptTokens += job.req.prompt.length;
        this.consume(job, this.model.forward(job.req.prompt, job.cache));
      } catch (e) {
        this.finish(job, "error", e as Error);
      }
    }
  }

  /** Sample the next token from `logits` and decide whether the request goes on. */
  private consume(job: Job, logits: Float32Array): void {
    if (job.done) return;
    job.next = undefined;
    for (let v = 0; v < logits.length; v++)
      if (!Number.isFinite(logits[v]!)) {
        this.finish(job, "error", new ModelInputError(`logits at position ${job.seen.length - 1} hold ${logits[v]} (token ${v}); the model produced a non-finite value`));
        return;
      }
    const { req } = job;
    const id = sampleToken(logits, { temperature: req.temperature, topK: req.topK, topP: req.topP, repetitionPenalty: req.repetitionPenalty, vocabLimit: this.options.vocabLimit }, job.seen, job.random);
    if (job.stopTokens.has(id)) {
      this.finish(job, "stop");
      return;
    }
    job.seen.push(id);
    job.tokens.push(id);
    this.counters.tokensGenerated++;
    this.recentTokens.push(performance.now());
    if (this.recentTokens.length > 100_000) this.tokensPerSecond(); // keep the window bounded under load
    if (!this.notify(job, () => req.onToken?.(id, job.tokens.length - 1))) return;
    if (this.options.decode) {
      const piece = job.text.push(id);
      if (piece && !this.notify(job, () => req.onText?.(piece))) return;
      if (job.text.stopped) {
        this.finish(job, "stop");
        return;
      }
    }
    if (job.tokens.length >= req.maxTokens || job.cache!.length >= job.cache!.maxTokens) {
      this.finish(job, "length");
      return;
    }
    job.next = id;
  }

  /** Run a request's callback; one that throws ends that request only, never its batch neighbours. */
  private notify(job: Job, callback: () => void): boolean {
    try {
      callback();
      return true;
    } catch (e) {
      this.finish(job, "error", e as Error);
      return false;
    }
  }

  private finish(job: Job, reason: FinishReason, error?: Error): void {
    if (job.done) return;
    job.done = true;
    job.next = undefined;
    const q = this.queue.indexOf(job);
    if (q >= 0) this.queue.splice(q, 1);
    const a = this.active.indexOf(job);
    if (a >= 0) this.active.splice(a, 1);
    job.cache?.dispose();
    job.cache = undefined;
    if (job.onAbort) job.req.signal?.removeEventListener("abort", job.onAbort);
    if (reason !== "abort" && reason !== "error" && this.options.decode) {
      const rest = job.text.flush();
      if (rest)
        try {
          job.req.onText?.(rest);
        } catch {
          // the request is over either way; its result still carries the whole text
        }
    }
    this.counters.requestsFinished[reason]++;
    job.resolve({ tokens: job.tokens, text: job.text.text, promptTokens: job.req.prompt.length, finishReason: reason, error });
  }
}
