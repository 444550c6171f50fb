/**
 * The inference executor of the decoder graph (architectures/decoder-graph.ts — the one definition the tfjs
 * training graph also runs): a ModelSpec's weights placed on a kernels backend as layers (BitLinear projections of
 * the spec's variant, norms, attention over a KV cache), and the graph's operations implemented on them
 * (BitNet b1.58, arXiv 2402.17764 §2; the 2B4T layout, arXiv 2504.12285 §2). Embeddings and the LM head stay at full
 * precision (or the file's block format). Activations pass from kernel to kernel; on a device backend they stay
 * there and a step reads back only its logits (`forwardAsync`).
 */
import { type Activations, type Backend, DENSE_FORMATS, type DenseFormat, firstNonFiniteImpl, hostArray, type PackedLinearWeight, type PreparedDense, ResidencyError } from "@onebit/kernels";
import { KvCache, type KvBits } from "@onebit/kv";
import { type A48Stage, AttentionLayer, type BitLinear, type BitLinearSpec, FeedForward, forwardShared, linearQuantFor, Norm, type NormSpec, type Projection, Workspace } from "@onebit/layers";
import { OnebitError } from "@onebit/quant";
import { blockTensorName, type DecoderOps, decoderForward } from "./architectures/decoder-graph";
import type { ModelSpec } from "./model-spec";
import { projectionName, projectionShape, tensorList } from "./tensor-names";
import { isQuantizedTable, type QuantizedTable } from "./weights/quantized-table";
import { ModelInputError } from "./model-input-error";

/** Each projection's workspace slot for its output (built once: a template string per call is a decode step's garbage). */
const PROJECTION_SLOTS: Readonly<Record<Projection, string>> = { q: "proj.q", k: "proj.k", v: "proj.v", o: "proj.o", gate: "proj.gate", up: "proj.up", down: "proj.down" };

/**
 * Weights by canonical (Hugging Face) name: float32 tensors, packed BitLinear projections, and dense tables kept
 * in their file's block format (a GGUF's quantized token embedding / output).
 */
export type ModelWeights = Map<string, Float32Array | PackedLinearWeight | QuantizedTable>;

export interface TransformerOptions {
  backend: Backend;
  /** a4.8 training stage whose quantization to use (inference of a finished model: 2). */
  stage?: A48Stage;
  /** 4-bit queries (a4.8 low-bit attention). */
  queryBits?: 4;
  /**
   * Storage of the LM head: "f32" (default, exact), "int8" (W8A16, one scale per row and ≤ 256-column block: a
   * quarter of f32's bytes) or "int4" (Q4_0's codes with a bfloat16 scale per 64 columns, 4.25 bits per weight, int8 activations per 32-column block) — see
   * @onebit/kernels js/dense.ts and js/dense-int4.ts. The LM head is the largest read of a decode step. It is
   * prepared straight from the file's table (a GGUF's F16 / Q6_K / … rows, chunk by chunk: no float32 copy), and a
   * tied embedding is looked up from that same storage (`denseRows`), so the table is held once.
   */
  lmHead?: DenseFormat;
  /**
   * Delete each tensor from the `weights` map once the backend holds it (the wasm backend copies weights into its
   * memory), so a caller that builds one model does not keep the loaded copy alive beside it: a 2B4T file would
   * otherwise be resident twice. The map is left empty.
   */
  releaseWeights?: boolean;
}

export function bitLinearSpecFor(spec: ModelSpec, p: Projection, stage: A48Stage = 2): BitLinearSpec {
  const [out, inF] = projectionShape(spec, p);
  return {
    inFeatures: inF,
    outFeatures: out,
    quant: linearQuantFor(spec.onebit.variant, p, stage),
    groups: spec.onebit.groups,
    groupAxis: p === "o" || p === "down" ? "in" : "out",
    epsMode: spec.onebit.eps_mode,
  };
}

/** A NaN or ±Infinity in the residual stream or the logits, named where it first appeared. */
export class NonFiniteError extends OnebitError {
  constructor(message: string) {
    super("NON_FINITE", message);
    this.name = "NonFiniteError";
  }
}

/**
 * A NaN or ±Infinity in the residual stream poisons every later layer and the logits, and sampling then picks
 * garbage silently; name the first sublayer that produced one instead. One pass over x [tokens, hidden] per
 * sublayer (the backend's firstNonFinite kernel: in wasm, a tenth of a JS loop's time): the residual carries every
 * earlier value forward, so nothing inside the sublayer needs checking. `first` is the index that pass found (−1:
 * every value finite).
 */
function throwIfNonFinite(x: Float32Array, first: number, hidden: number, where: string | (() => string)): void {
  if (first < 0) return;
  const v = x[first]!;
  throw new NonFiniteError(`${typeof where === "function" ? where() : where} produced ${Number.isNaN(v) ? "NaN" : v} at token ${Math.floor(first / hidden)}`);
}

interface Block {
  attnNorm: Norm;
  attention: AttentionLayer;
  ffnNorm: Norm;
  ffn: FeedForward;
}

/** Options of `forward` / `forwardAsync`. */
export interface ForwardOptions {
  /** Logits for every token [tokens, vocab], not only the last token's [vocab]. */
  allLogits?: boolean;
  /** Where to write the logits (length vocab, or tokens·vocab with allLogits); returned. */
  out?: Float32Array;
}

/** How one run places its rows: one sequence (`cache`, from `start`) or one row per sequence (`caches`). */
type Rows = { kind: "sequence"; ids: ArrayLike<number>; cache: KvCache; start: number } | { kind: "batch"; ids: readonly number[]; caches: readonly KvCache[]; starts: number[] };

export class Transformer {
  readonly blocks: Block[] = [];
  /**
   * The input embedding [vocab, hidden] held apart from the LM head — float32, or the file's quantized table (rows
   * dequantized on lookup) — or null for a tied model, whose lookups read the LM head's storage.
   */
  readonly embed: Float32Array | QuantizedTable | null;
  /** The LM head as the backend holds it (options.lmHead's format); a tied model's embedding too. */
  readonly lmHeadPrepared: PreparedDense;
  readonly finalNorm: Norm;
  readonly backend: Backend;
  /** Every norm by its gain tensor's canonical name (what the decoder graph asks for). */
  private readonly norms = new Map<string, Norm>();
  /**
   * Host backends: buffers for the temporaries of a forward pass (the residual stream, norm outputs, projection
   * outputs, the FFN's gate and up), reused by every layer and every call instead of allocated per kernel call, in
   * the backend's own memory (allocF32: the wasm kernels read and write them in place; layers' workspace.ts).
   */
  private readonly workspace: Workspace;

  constructor(
    readonly spec: ModelSpec,
    weights: ModelWeights,
    readonly options: TransformerOptions,
  ) {
    this.backend = options.backend;
    const backend = this.backend;
    this.workspace = new Workspace({ alloc: (n) => hostArray(backend.allocF32(n), "workspace"), free: (a) => backend.freeF32(a) });
    const get = (name: string): Float32Array | PackedLinearWeight | QuantizedTable => {
      const w = weights.get(name);
      if (!w) throw new ModelInputError(`model weights: tensor "${name}" is missing`);
      return w;
    };
    const getF32 = (name: string, length: number): Float32Array => {
      const w = get(name);
      if (!(w instanceof Float32Array)) throw new ModelInputError(`model weights: tensor "${name}" must be float32`);
      if (w.length !== length) throw new ModelInputError(`model weights: tensor "${name}" has ${w.length} values, expected ${length}`);
      return w;
    };
    const layerTensors: string[][] = [];
    for (const t of tensorList(spec)) {
      get(t.name); // every tensor present, before building anything
      if (t.layer === undefined) continue;
      layerTensors[t.layer] ??= [];
      layerTensors[t.layer]!.push(t.name);
    }
    const h = spec.hidden_size;
    const norm = (features: number): NormSpec => ({ kind: spec.onebit.norm, features, eps: spec.rms_norm_eps });
    const getTable = (name: string): Float32Array | QuantizedTable => {
      const w = get(name);
      if (!isQuantizedTable(w)) return getF32(name, spec.vocab_size * h);
      if (w.rows !== spec.vocab_size || w.cols !== h) throw new ModelInputError(`model weights: tensor "${name}" is [${w.rows}, ${w.cols}], expected [${spec.vocab_size}, ${h}]`);
      return w;
    };
    const lmHeadFormat = options.lmHead ?? "f32";
    if (!DENSE_FORMATS.includes(lmHeadFormat)) throw new ModelInputError(`transformer lmHead: expected one of ${DENSE_FORMATS.join(", ")}, got ${JSON.stringify(lmHeadFormat)}`);
    const embedTable = getTable("model.embed_tokens.weight");
    // a quantized table is read row chunk by row chunk into the head's format (a DenseRowSource): no f32 copy
    const head = spec.tie_word_embeddings ? embedTable : getTable("lm_head.weight");
    this.lmHeadPrepared = this.backend.prepareDense({ weight: head, outFeatures: spec.vocab_size, inFeatures: h, format: lmHeadFormat });
    this.embed = spec.tie_word_embeddings ? null : embedTable;
    this.finalNorm = new Norm(norm(h), getF32("model.norm.weight", h), this.backend);
    this.norms.set("model.norm.weight", this.finalNorm);
    const stage = options.stage ?? 2;
    const attnWidth = spec.num_attention_heads * spec.head_dim;
    for (let l = 0; l < spec.num_hidden_layers; l++) {
      const proj = (p: Projection): Float32Array | PackedLinearWeight => {
        const w = get(projectionName(l, p));
        if (isQuantizedTable(w)) throw new ModelInputError(`model weights: projection "${projectionName(l, p)}" is a ${w.dtype} table; projections must be packed BitLinear weights or float32`);
        return w;
      };
      const attention = new AttentionLayer(
        {
          hidden: h,
          heads: spec.num_attention_heads,
          kvHeads: spec.num_key_value_heads,
          headDim: spec.head_dim,
          ropeTheta: spec.rope_theta,
          ropeStyle: spec.onebit.rope_style,
          q: bitLinearSpecFor(spec, "q", stage),
          k: bitLinearSpecFor(spec, "k", stage),
          v: bitLinearSpecFor(spec, "v", stage),
          o: bitLinearSpecFor(spec, "o", stage),
          subNorm: spec.onebit.sub_norm ? { ...norm(attnWidth), groups: spec.onebit.groups } : null,
          queryBits: options.queryBits,
        },
        {
          q: proj("q"),
          k: proj("k"),
          v: proj("v"),
          o: proj("o"),
          subNorm: spec.onebit.sub_norm ? getF32(`model.layers.${l}.self_attn.attn_sub_norm.weight`, attnWidth) : undefined,
        },
        this.backend,
      );
      const ffn = new FeedForward(
        {
          hidden: h,
          intermediate: spec.intermediate_size,
          activation: spec.hidden_act,
          gate: bitLinearSpecFor(spec, "gate", stage),
          up: bitLinearSpecFor(spec, "up", stage),
          down: bitLinearSpecFor(spec, "down", stage),
          subNorm: spec.onebit.sub_norm ? { ...norm(spec.intermediate_size), groups: spec.onebit.groups } : null,
        },
        {
          gate: proj("gate"),
          up: proj("up"),
          down: proj("down"),
          subNorm: spec.onebit.sub_norm ? getF32(`model.layers.${l}.mlp.ffn_sub_norm.weight`, spec.intermediate_size) : undefined,
        },
        this.backend,
      );
      const block: Block = {
        attnNorm: new Norm(norm(h), getF32(blockTensorName("attn_norm", l), h), this.backend),
        attention,
        ffnNorm: new Norm(norm(h), getF32(blockTensorName("ffn_norm", l), h), this.backend),
        ffn,
      };
      this.blocks.push(block);
      // this layer's tensors are on the backend now: let the loaded copies go layer by layer (peak ≈ model + 1 layer)
      if (options.releaseWeights) for (const t of layerTensors[l] ?? []) weights.delete(t);
      this.norms.set(blockTensorName("attn_norm", l), block.attnNorm);
      this.norms.set(blockTensorName("ffn_norm", l), block.ffnNorm);
      if (attention.subNorm) this.norms.set(blockTensorName("attn_sub_norm", l), attention.subNorm);
      if (ffn.subNorm) this.norms.set(blockTensorName("ffn_sub_norm", l), ffn.subNorm);
    }
    if (options.releaseWeights) weights.clear();
  }

  newCache(options: { maxTokens?: number; bits?: KvBits; bosFourBit?: boolean } = {}): KvCache {
    return new KvCache({
      layers: this.spec.num_hidden_layers,
      kvHeads: this.spec.num_key_value_heads,
      headDim: this.spec.head_dim,
      maxTokens: options.maxTokens ?? this.spec.max_position_embeddings,
      bits: options.bits ?? 32,
      bosFourBit: options.bosFourBit,
      storage: this.backend, // f32 layers where the backend's attention reads them in place (wasm memory)
    });
  }

  /**
   * Run `ids` at the cache's next positions; returns logits [tokens, vocab] (allLogits) or the last token's [vocab].
   * Host backends (js, wasm, webgl); a device backend reads its logits back with `forwardAsync`.
   * `out`: the logits are written there and it is returned, rather than a new array each call — a decode loop that
   * reads them before its next step saves a 0.5 MB allocation a token (128256 logits), ≈ 0.2 ms of fresh pages.
   */
  forward(ids: ArrayLike<number>, cache: KvCache, options: ForwardOptions = {}): Float32Array {
    if (this.backend.residency !== "host") throw new ResidencyError(`Transformer.forward returns host logits at once; the ${this.backend.name} backend keeps them on the device: await forwardAsync()`);
    return hostArray(this.runSequence(ids, cache, options), "logits");
  }

  /** `forward` on any backend: the logits are read back once, awaited (a device backend's only read of the step). */
  async forwardAsync(ids: ArrayLike<number>, cache: KvCache, options: ForwardOptions = {}): Promise<Float32Array> {
    const logits = await this.backend.read(this.runSequence(ids, cache, options));
    // a device backend keeps the residual stream to itself: check the logits it hands back instead
    if (this.backend.residency === "device") {
      throwIfNonFinite(logits, firstNonFiniteImpl(logits), this.spec.vocab_size, `the ${this.backend.name} backend (checked on the logits; a host backend names the layer)`);
      if (options.out) {
        options.out.set(logits);
        return options.out;
      }
    }
    return logits;
  }

  /**
   * One decode step for B sequences at once (continuous batching): ids[b] is the next token of the sequence in
   * caches[b], run at that cache's next position. Projections and the LM head see all B rows in one call (the
   * kernels' batched path, weights read once per step instead of once per sequence); attention stays per
   * sequence. Returns logits [B, vocab]. Host backends.
   */
  forwardBatch(ids: readonly number[], caches: readonly KvCache[]): Float32Array {
    const batch = ids.length;
    if (batch === 0) throw new ModelInputError("forwardBatch ids: expected at least one token");
    if (caches.length !== batch) throw new ModelInputError(`forwardBatch caches: expected ${batch} (one per id), found ${caches.length}`);
    if (new Set(caches).size !== batch) throw new ModelInputError("forwardBatch caches: each sequence needs its own cache; found the same cache twice");
    if (this.backend.residency !== "host") throw new ResidencyError(`Transformer.forwardBatch runs attention per sequence in host memory; the ${this.backend.name} backend decodes one sequence per step (forwardAsync)`);
    const starts = caches.map((c) => c.length);
    for (const c of caches) c.reserve(1);
    const logits = decoderForward(this.spec, this.ops({ kind: "batch", ids, caches, starts }, true)); // [B, vocab]
    caches.forEach((c, b) => {
      c.length = starts[b]! + 1;
    });
    return hostArray(logits, "logits");
  }

  private runSequence(ids: ArrayLike<number>, cache: KvCache, options: ForwardOptions): Activations {
    const tokens = ids.length;
    if (tokens === 0) throw new ModelInputError("forward ids: expected at least one token");
    if (options.out !== undefined) {
      const want = (options.allLogits ? tokens : 1) * this.spec.vocab_size;
      if (!(options.out instanceof Float32Array) || options.out.length !== want)
        throw new ModelInputError(`forward out: expected a Float32Array of ${options.allLogits ? "tokens·vocab" : "vocab"} = ${want} logits, found ${options.out instanceof Float32Array ? `${options.out.length}` : typeof options.out}`);
    }
    cache.reserve(tokens);
    const start = cache.length;
    const logits = decoderForward(this.spec, this.ops({ kind: "sequence", ids, cache, start }, options.allLogits ?? false, options.out));
    cache.length = start + tokens;
    return logits;
  }

  /**
   * This executor's side of the decoder graph (architectures/decoder-graph.ts): every operation on the kernels of
   * `this.backend`, activations [rows, features] passed from kernel to kernel (they may stay on a device).
   */
  private ops(rows: Rows, allLogits: boolean, logitsOut?: Float32Array): DecoderOps<Activations> {
    const n = rows.ids.length;
    const h = this.spec.hidden_size;
    const host = this.backend.residency === "host";
    return {
      // the residual stream, added to in place by every sublayer, dead once the final norm has read it
      embed: () => this.embedTokens(rows.ids, rows.kind === "sequence" ? "forward ids" : "forwardBatch ids", host ? this.workspace.f32("residual", n * h) : undefined), // [rows, hidden]
      norm: (x, weight, groups) => {
        const norm = this.norms.get(weight);
        if (!norm) throw new ModelInputError(`decoder graph: no norm "${weight}" in this model`);
        if ((norm.spec.groups ?? 1) !== groups) throw new ModelInputError(`decoder graph: norm "${weight}" has ${norm.spec.groups ?? 1} groups, the graph asks for ${groups}`);
        // a norm's output is dead once the projections after it have read it: one slot serves every norm
        return norm.forward(x, n, host ? this.workspace.f32("norm", n * norm.spec.features) : undefined);
      },
      project: (x, layer, projections) => {
        const linears = projections.map((p) => this.linear(layer, p));
        // each projection's output is dead before the same projection of the next layer runs
        // the codes too: dead once the projections have read them (the wasm backend's bitLinear reads them in place)
        const outs = host ? linears.map((l, i) => this.workspace.f32(PROJECTION_SLOTS[projections[i]!], n * l.spec.outFeatures)) : undefined;
        return forwardShared(
          linears,
          x,
          n,
          outs,
          host ? (length) => this.workspace.i8("codes", length) : undefined,
          // projections placed as one weight (q, k, v on wasm) write their joined output here first
          host ? (length) => this.workspace.f32("proj.joined", length) : undefined,
        );
      },
      attend: (q, k, v, layer) => {
        const attention = this.blocks[layer]!.attention;
        if (rows.kind === "batch") return attention.attendBatch(q, k, v, rows.caches, layer, rows.starts);
        // the attention output is dead once the sub-norm (or o) has read it
        const out = host ? this.workspace.f32("attn.out", n * attention.spec.heads * attention.spec.headDim) : undefined;
        return attention.attendProjected(q, k, v, n, rows.cache, layer, rows.start, out);
      },
      gatedFfn: (x, layer) => this.blocks[layer]!.ffn.gated(x, n, host ? this.workspace : undefined),
      residual: (x, branch, layer, sublayer) => {
        this.backend.add({ x, y: branch }); // x ← x + branch in place
        if (host) {
          const stream = hostArray(x, "residual");
          throwIfNonFinite(stream, this.backend.firstNonFinite({ x: stream }), h, () => `layer ${layer} (${sublayer})`);
        }
        return x;
      },
      logits: (x) => {
        // only the last token's logits unless asked: the LM head is the largest matmul of a prompt
        const last = rows.kind === "sequence" && !allLogits && n > 1;
        const input = last ? (host ? hostArray(x, "final norm").subarray((n - 1) * h) : this.sliceRow(x, n - 1)) : x;
        // (a device backend's logits stay on it: forwardAsync copies them into `out` once read)
        return this.backend.dense({ weight: this.lmHeadPrepared, x: input, tokens: last ? 1 : n, out: host ? logitsOut : undefined }); // [rows, vocab]
      },
    };
  }

  /** Row `row` [1, hidden] of device activations, copied on the device. */
  private sliceRow(x: Activations, row: number): Activations {
    const h = this.spec.hidden_size;
    const out = this.backend.allocF32(h);
    this.backend.copyInto({ src: x, srcOffset: row * h, length: h, dst: out, dstOffset: 0 });
    return out;
  }

  /** The BitLinear of projection `p` in `layer`. */
  private linear(layer: number, p: Projection): BitLinear {
    const { attention, ffn } = this.blocks[layer]!;
    // (a switch: an object of all seven per call was ≈ 120 allocations a decode step)
    switch (p) {
      case "q":
      case "k":
      case "v":
      case "o":
        return attention[p];
      case "gate":
      case "up":
      case "down":
        return ffn[p];
    }
  }

  /**
   * Token ids → their embedding rows [ids.length, hidden]: from the embedding table (a quantized table dequantizes
   * just those rows), or, tied, from the LM head's storage with the denseRows kernel (on a device backend the rows
   * are gathered there).
   */
  private embedTokens(ids: ArrayLike<number>, what: string, out?: Float32Array): Activations {
    const { hidden_size: h, vocab_size: vocab } = this.spec;
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t]!;
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new ModelInputError(`${what}[${t}]: ${id} is not a token id in [0, ${vocab})`);
    }
    const table = this.embed;
    if (!table && this.backend.residency === "device") {
      const head = this.lmHeadPrepared;
      if (ids.length === 1) return this.backend.denseRows({ weight: head, start: ids[0]!, count: 1 });
      const x = this.backend.allocF32(ids.length * h);
      for (let t = 0; t < ids.length; t++) {
        const row = this.backend.denseRows({ weight: head, start: ids[t]!, count: 1 });
        this.backend.copyInto({ src: row, dst: x, dstOffset: t * h });
        this.backend.freeF32(row);
      }
      return x;
    }
    const x = out ?? new Float32Array(ids.length * h);
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t]!;
      const row = x.subarray(t * h, (t + 1) * h);
      if (!table) this.backend.denseRows({ weight: this.lmHeadPrepared, start: id, count: 1, out: row });
      else if (isQuantizedTable(table)) table.readRows(id, 1, row);
      else row.set(table.subarray(id * h, (id + 1) * h));
    }
    return this.backend.upload(x);
  }
}
