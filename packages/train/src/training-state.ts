/**
 * The resumable state of a training run, as plain data (browser-safe; checkpoint-files.ts writes and reads it in
 * Node): the latent weights and AdamW's moments as FULL tensors (a tensor-parallel run unshards its workers'
 * blocks into them), the step, the loss history, the spec, the tokenizer and how many worker threads wrote it.
 * One format for every executor: a state written by G workers resumes on G workers, or on one thread with the
 * same G-group spec, and the other way round.
 * Shapes: every tensor as tensorList(spec) names and shapes it, row-major ([out, in] for projections).
 */
import { OnebitError } from "@onebit/quant";
import { type ModelSpec, tensorList } from "@onebit/model";
import type { AdamW } from "./adamw";
import { tf } from "./tf-backend";
import { TrainConfigError } from "./train-errors";
import { shardOf, type TrainableModel } from "./trainable-model";

/** A training checkpoint that cannot be resumed: names the file, what was expected and what was found. */
export class TrainingStateError extends OnebitError {
  constructor(message: string) {
    super("TRAINING_STATE", message);
    this.name = "TrainingStateError";
  }
}

export type TrainHistory = Array<{ step: number; loss: number; validationLoss?: number }>;

export interface TrainingState {
  /** Optimizer steps done; a resumed run continues with step index `step` (0-based). */
  step: number;
  /** AdamW's own step counter (bias correction); equals `step` for runs that never skipped an update. */
  adamStep: number;
  spec: ModelSpec;
  history: TrainHistory;
  /** Latent weights, full tensors. */
  params: Map<string, Float32Array>;
  /** AdamW first and second moments, full tensors (empty before the first step). */
  adamM: Map<string, Float32Array>;
  adamV: Map<string, Float32Array>;
  /** Worker threads of the run that wrote it: 1 (single thread) or G (tensor-parallel, one group each). */
  workers: number;
  /** The run's tokenizer (BpeTokenizer.toJSON()), when it has one. */
  tokenizer?: unknown;
}

/** A copy of a whole (unsharded) model's and optimizer's state. */
export function captureTrainingState(model: TrainableModel, opt: AdamW, step: number, history: TrainHistory): TrainingState {
  if (model.shard) throw new TrainConfigError("captureTrainingState: a tensor-parallel shard holds part of the state; gather the shards' parts (parallel-trainer.ts)");
  const copy = (vars: Map<string, tf.Variable>) => new Map([...vars].map(([n, v]) => [n, (v.dataSync() as Float32Array).slice()] as const));
  return { step, adamStep: opt.step, spec: model.spec, history: history.map((h) => ({ ...h })), params: copy(model.variables), adamM: copy(opt.m), adamV: copy(opt.v), workers: 1 };
}

/**
 * Refuse a state that does not belong to `spec` or is incomplete, naming `source` (the file it came from): the
 * spec must be the same, every tensor present with its full size, and both moments present once AdamW has stepped.
 */
export function checkTrainingState(state: TrainingState, spec: ModelSpec, source: string): void {
  if (JSON.stringify(state.spec) !== JSON.stringify(spec)) throw new TrainingStateError(specMismatch(source, state.spec, spec));
  if (!Number.isInteger(state.step) || state.step < 0) throw new TrainingStateError(`${source}: step must be a non-negative integer, got ${state.step}`);
  if (!Number.isInteger(state.workers) || state.workers < 1) throw new TrainingStateError(`${source}: workers must be a positive integer, got ${state.workers}`);
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const names = new Set<string>();
  for (const t of tensorList(spec)) {
    names.add(t.name);
    const maps: Array<[string, Map<string, Float32Array>]> = [["param", state.params]];
    if (state.adamStep > 0) maps.push(["adam_m", state.adamM], ["adam_v", state.adamV]);
    for (const [kind, map] of maps) {
      const v = map.get(t.name);
      if (!v) throw new TrainingStateError(`${source}: tensor "${kind}/${t.name}" is missing`);
      if (v.length !== size(t.shape)) throw new TrainingStateError(`${source}: tensor "${kind}/${t.name}" has ${v.length} values, expected ${size(t.shape)} for shape ${JSON.stringify(t.shape)}`);
    }
  }
  for (const [kind, map] of [["param", state.params], ["adam_m", state.adamM], ["adam_v", state.adamV]] as const)
    for (const name of map.keys()) if (!names.has(name)) throw new TrainingStateError(`${source}: tensor "${kind}/${name}" matches no model variable`);
}

/** "<source>: the checkpoint was trained with a different model spec (onebit.groups: 2 in the checkpoint, 1 now); …" */
export function specMismatch(source: string, saved: unknown, current: unknown): string {
  const diffs: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    } else diffs.push(`${path}: ${JSON.stringify(a)} in the checkpoint, ${JSON.stringify(b)} now`);
  };
  walk(saved, current, "");
  const shown = diffs.slice(0, 3).join("; ") + (diffs.length > 3 ? `; … ${diffs.length - 3} more` : "");
  return `${source}: the checkpoint was trained with a different model spec (${shown}); refusing to resume`;
}

/** Give `opt` the saved moments and step — this model's part of them when it is a tensor-parallel shard. */
export function restoreOptimizer(opt: AdamW, model: TrainableModel, state: Pick<TrainingState, "adamM" | "adamV" | "adamStep">): void {
  const shard = model.shard;
  for (const t of tensorList(model.spec))
    for (const [saved, into] of [[state.adamM, opt.m], [state.adamV, opt.v]] as const) {
      const full = saved.get(t.name);
      if (!full) continue;
      const [value, shape] = shard ? shardOf(t, full, shard.index, shard.count) : [full, [...t.shape]];
      into.get(t.name)?.dispose();
      into.set(t.name, tf.variable(tf.tensor(value, shape), false));
    }
  opt.step = state.adamStep;
}
