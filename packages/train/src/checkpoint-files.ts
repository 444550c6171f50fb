/**
 * A TrainingState on disk (Node), one format for single-thread and tensor-parallel runs:
 *   <dir>/state.safetensors  F32 tensors "param/<name>", "adam_m/<name>", "adam_v/<name>", full shapes as
 *                            tensorList(spec) (a G-worker run's shards are unsharded first); metadata {step}
 *   <dir>/state.json         {step, adamStep, spec, tokenizer, history, workers}
 * Atomic (ARCHITECTURE invariant 5): both files are written under temporary names, then renamed — tensors first,
 * then state.json — so a crash leaves the previous checkpoint or the new one. The step is recorded in both files; a
 * pair that disagrees (a crash between the two renames) is refused rather than resumed from.
 * Reading refuses, naming the file, anything malformed, incomplete or trained with another spec.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeSafetensors, encodeSafetensors, type ModelSpec, type SafeTensor, tensorList } from "@onebit/model";
import { checkTrainingState, specMismatch, type TrainingState } from "./training-state";

export const STATE_JSON = "state.json";
export const STATE_TENSORS = "state.safetensors";

interface StateJson {
  step: number;
  adamStep: number;
  spec: ModelSpec;
  tokenizer?: unknown;
  history: TrainingState["history"];
  /** absent in checkpoints written before tensor-parallel checkpoints existed: 1 */
  workers?: number;
}

export function hasTrainingState(dir: string): boolean {
  return existsSync(join(dir, STATE_JSON));
}

export function writeTrainingState(dir: string, state: TrainingState): void {
  const shapes = new Map(tensorList(state.spec).map((t) => [t.name, [...t.shape]]));
  const tensors = new Map<string, SafeTensor>();
  const add = (kind: string, map: Map<string, Float32Array>) => {
    for (const [name, data] of map) {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`${dir}: cannot write tensor "${kind}/${name}": the spec has no such tensor`);
      tensors.set(`${kind}/${name}`, { dtype: "F32", shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    }
  };
  add("param", state.params);
  add("adam_m", state.adamM);
  add("adam_v", state.adamV);
  const meta: StateJson = { step: state.step, adamStep: state.adamStep, spec: state.spec, tokenizer: state.tokenizer, history: state.history, workers: state.workers };
  const tensorsPath = join(dir, STATE_TENSORS);
  const jsonPath = join(dir, STATE_JSON);
  const tmpTensors = `${tensorsPath}.${process.pid}.tmp`;
  const tmpJson = `${jsonPath}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmpTensors, encodeSafetensors(tensors, { step: String(state.step) }));
    writeFileSync(tmpJson, JSON.stringify(meta));
    renameSync(tmpTensors, tensorsPath);
    renameSync(tmpJson, jsonPath);
  } catch (e) {
    rmSync(tmpTensors, { force: true });
    rmSync(tmpJson, { force: true });
    throw new Error(`${dir}: cannot write the training checkpoint (${(e as Error).message})`);
  }
}

/** Read a checkpoint written by writeTrainingState (or by an older single-thread run) and check it against `spec`. */
export function readTrainingState(dir: string, spec: ModelSpec): TrainingState {
  const jsonPath = join(dir, STATE_JSON);
  const tensorsPath = join(dir, STATE_TENSORS);
  let meta: StateJson;
  try {
    meta = JSON.parse(readFileSync(jsonPath, "utf8")) as StateJson;
  } catch (e) {
    throw new Error(`${jsonPath}: cannot read the training checkpoint (${(e as Error).message})`);
  }
  if (typeof meta !== "object" || meta === null || typeof meta.step !== "number" || typeof meta.adamStep !== "number" || !Array.isArray(meta.history))
    throw new Error(`${jsonPath}: not a training checkpoint (expected step, adamStep, spec, history)`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(tensorsPath));
  } catch (e) {
    throw new Error(`${tensorsPath}: cannot read the training checkpoint's tensors (${(e as Error).message})`);
  }
  const { tensors, metadata } = decodeSafetensors(bytes, tensorsPath);
  if (metadata.step !== undefined && Number(metadata.step) !== meta.step)
    throw new Error(`${tensorsPath}: holds step ${metadata.step} but ${jsonPath} says step ${meta.step} (a write was interrupted); refusing to resume`);
  const state: TrainingState = {
    step: meta.step,
    adamStep: meta.adamStep,
    spec: meta.spec,
    history: meta.history,
    params: new Map(),
    adamM: new Map(),
    adamV: new Map(),
    workers: meta.workers ?? 1,
    tokenizer: meta.tokenizer,
  };
  if (JSON.stringify(meta.spec) !== JSON.stringify(spec)) throw new Error(specMismatch(jsonPath, meta.spec, spec));
  for (const [key, t] of tensors) {
    const slash = key.indexOf("/");
    const kind = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const map = kind === "param" ? state.params : kind === "adam_m" ? state.adamM : kind === "adam_v" ? state.adamV : undefined;
    if (!map || slash < 0) throw new Error(`${tensorsPath}: unexpected tensor "${key}" (expected param/…, adam_m/…, adam_v/…)`);
    if (t.dtype !== "F32") throw new Error(`${tensorsPath}: tensor "${key}" is ${t.dtype}, expected F32`);
    // copy: the file's bytes need not be 4-byte aligned for a Float32Array view
    map.set(name, new Float32Array(t.data.slice().buffer));
  }
  checkTrainingState(state, spec, tensorsPath);
  return state;
}
