/**
 * A TrainingState on disk (Node), one format for single-thread and tensor-parallel runs:
 *   <dir>/state.safetensors  F32 tensors "param/<name>", "adam_m/<name>", "adam_v/<name>", full shapes as
 *                            tensorList(spec) (a G-worker run's shards are unsharded first); metadata {step, commit}
 *   <dir>/state.json         {step, adamStep, spec, tokenizer, history, workers, commit}
 * One commit point per checkpoint: the renaming of state.json. The tensors are first written completely to
 * state.safetensors.next; then state.json, naming the write's random `commit` token, replaces the old one; then
 * state.safetensors.next replaces state.safetensors. The reader takes whichever of the two tensor files carries
 * state.json's token, so a crash at any moment leaves the previous checkpoint or the new one, never a mixture, and
 * a reader running during a write sees one or the other. (A pair whose steps still disagree — edited by hand, or
 * from before commit tokens — is refused rather than resumed from.)
 * Reading refuses, naming the file, anything malformed, incomplete or trained with another spec.
 *
 * Two runs writing one folder would interleave their checkpoints and exports, so a writer holds the folder's lock
 * (lockFolder): a file created exclusively, naming the holder's pid, host and start time. A second writer is refused
 * with the holder named; a lock whose process is gone (a crash, a kill -9) is taken over with a note.
 */
import { OnebitError } from "@onebit/quant";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { decodeSafetensors, encodeSafetensors, type ModelSpec, type SafeTensor, tensorList } from "@onebit/model";
import { TrainWriteError } from "./train-errors";
import { checkTrainingState, specMismatch, type TrainingState, TrainingStateError } from "./training-state";

export const STATE_JSON = "state.json";
export const STATE_TENSORS = "state.safetensors";
/** The tensors of a write in progress or of a committed write whose last rename has not happened yet. */
export const STATE_TENSORS_NEXT = "state.safetensors.next";
export const LOCK_FILE = "onebit.lock";

interface StateJson {
  step: number;
  adamStep: number;
  spec: ModelSpec;
  tokenizer?: unknown;
  history: TrainingState["history"];
  /** absent in checkpoints written before tensor-parallel checkpoints existed: 1 */
  workers?: number;
  /** random per write, also in the tensors' metadata: pairs the two files (absent in older checkpoints) */
  commit?: string;
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
      if (!shape) throw new TrainWriteError(`${dir}: cannot write tensor "${kind}/${name}": the spec has no such tensor`);
      tensors.set(`${kind}/${name}`, { dtype: "F32", shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    }
  };
  add("param", state.params);
  add("adam_m", state.adamM);
  add("adam_v", state.adamV);
  const commit = randomBytes(8).toString("hex");
  const meta: StateJson = { step: state.step, adamStep: state.adamStep, spec: state.spec, tokenizer: state.tokenizer, history: state.history, workers: state.workers, commit };
  const tensorsPath = join(dir, STATE_TENSORS);
  const nextPath = join(dir, STATE_TENSORS_NEXT);
  const jsonPath = join(dir, STATE_JSON);
  const tmpTensors = `${nextPath}.${process.pid}.tmp`;
  const tmpJson = `${jsonPath}.${process.pid}.tmp`;
  let committed = false;
  try {
    mkdirSync(dir, { recursive: true });
    // an earlier write that committed but crashed before its last rename: finish it, so .next is free to reuse
    settlePendingTensors(dir);
    writeFileSync(tmpTensors, encodeSafetensors(tensors, { step: String(state.step), commit }));
    renameSync(tmpTensors, nextPath);
    writeFileSync(tmpJson, JSON.stringify(meta));
    renameSync(tmpJson, jsonPath); // the commit point
    committed = true;
    renameSync(nextPath, tensorsPath);
  } catch (e) {
    rmSync(tmpTensors, { force: true });
    rmSync(tmpJson, { force: true });
    if (!committed) rmSync(nextPath, { force: true }); // committed, .next is the checkpoint's tensors: keep them
    throw new TrainWriteError(`${dir}: cannot write the training checkpoint (${(e as Error).message})`);
  }
}

/** The commit token state.json names, or undefined (no checkpoint, unreadable, or written before tokens). */
function committedToken(dir: string): string | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(dir, STATE_JSON), "utf8")) as StateJson;
    return typeof meta?.commit === "string" ? meta.commit : undefined;
  } catch {
    return undefined;
  }
}

function tensorsCommit(path: string): string | undefined {
  try {
    return decodeSafetensors(new Uint8Array(readFileSync(path)), path).metadata.commit;
  } catch {
    return undefined;
  }
}

/** If state.safetensors.next is the committed write's (state.json names its token), move it into place; else drop it. */
function settlePendingTensors(dir: string): void {
  const nextPath = join(dir, STATE_TENSORS_NEXT);
  if (!existsSync(nextPath)) return;
  const token = committedToken(dir);
  if (token !== undefined && tensorsCommit(nextPath) === token) renameSync(nextPath, join(dir, STATE_TENSORS));
  else rmSync(nextPath, { force: true }); // an uncommitted write: state.json still pairs with state.safetensors
}

/** Read a checkpoint written by writeTrainingState (or by an older single-thread run) and check it against `spec`. */
export function readTrainingState(dir: string, spec: ModelSpec): TrainingState {
  const jsonPath = join(dir, STATE_JSON);
  const tensorsPath = join(dir, STATE_TENSORS);
  let meta: StateJson;
  try {
    meta = JSON.parse(readFileSync(jsonPath, "utf8")) as StateJson;
  } catch (e) {
    throw new TrainingStateError(`${jsonPath}: cannot read the training checkpoint (${(e as Error).message})`);
  }
  if (typeof meta !== "object" || meta === null || typeof meta.step !== "number" || typeof meta.adamStep !== "number" || !Array.isArray(meta.history))
    throw new TrainingStateError(`${jsonPath}: not a training checkpoint (expected step, adamStep, spec, history)`);
  if (!Number.isSafeInteger(meta.adamStep) || meta.adamStep < 0) throw new TrainingStateError(`${jsonPath}: adamStep: expected a non-negative integer, found ${JSON.stringify(meta.adamStep)}`);
  meta.history.forEach((h, i) => {
    if (typeof h !== "object" || h === null || typeof h.step !== "number" || typeof h.loss !== "number" || (h.validationLoss !== undefined && typeof h.validationLoss !== "number"))
      throw new TrainingStateError(`${jsonPath}: history[${i}]: expected {step, loss[, validationLoss]} numbers, found ${JSON.stringify(h)?.slice(0, 80)}`);
  });
  if (meta.workers !== undefined && (!Number.isSafeInteger(meta.workers) || meta.workers < 1)) throw new TrainingStateError(`${jsonPath}: workers: expected a positive integer, found ${JSON.stringify(meta.workers)}`);
  const readTensors = (path: string) => {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new TrainingStateError(`${path}: cannot read the training checkpoint's tensors (${(e as Error).message})`);
    }
    try {
      return decodeSafetensors(bytes, path);
    } catch (e) {
      throw new TrainingStateError((e as Error).message);
    }
  };
  const nextPath = join(dir, STATE_TENSORS_NEXT);
  let first: ReturnType<typeof readTensors> | undefined;
  try {
    first = readTensors(tensorsPath);
  } catch (e) {
    // the first checkpoint of a folder, committed but not yet moved into place: .next is its tensors
    if (typeof meta.commit !== "string" || !existsSync(nextPath)) throw e;
  }
  let { tensors, metadata } = first ?? { tensors: new Map<string, SafeTensor>(), metadata: {} as Record<string, string> };
  if (typeof meta.commit === "string" && metadata.commit !== meta.commit) {
    // committed, but the writer had not yet moved the new tensors into place (it is writing, or it crashed there)…
    // …or it moved them between our two reads: then state.safetensors is the new one
    const again = existsSync(nextPath) ? readTensors(nextPath) : readTensors(tensorsPath);
    if (again.metadata.commit !== meta.commit)
      throw new TrainingStateError(`${tensorsPath}: is not the tensors of ${jsonPath} (commit ${metadata.commit ?? "none"}, expected ${meta.commit}); refusing to resume`);
    ({ tensors, metadata } = again);
  }
  if (metadata.step !== undefined && Number(metadata.step) !== meta.step)
    throw new TrainingStateError(`${tensorsPath}: holds step ${metadata.step} but ${jsonPath} says step ${meta.step} (a write was interrupted); refusing to resume`);
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
  if (JSON.stringify(meta.spec) !== JSON.stringify(spec)) throw new TrainingStateError(specMismatch(jsonPath, meta.spec, spec));
  for (const [key, t] of tensors) {
    const slash = key.indexOf("/");
    const kind = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const map = kind === "param" ? state.params : kind === "adam_m" ? state.adamM : kind === "adam_v" ? state.adamV : undefined;
    if (!map || slash < 0) throw new TrainingStateError(`${tensorsPath}: unexpected tensor "${key}" (expected param/…, adam_m/…, adam_v/…)`);
    if (t.dtype !== "F32") throw new TrainingStateError(`${tensorsPath}: tensor "${key}" is ${t.dtype}, expected F32`);
    // copy: the file's bytes need not be 4-byte aligned for a Float32Array view
    map.set(name, new Float32Array(t.data.slice().buffer));
  }
  checkTrainingState(state, spec, tensorsPath);
  return state;
}

/** Who holds a folder's lock, as its lock file says. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock */
  started: string;
  /** what the holder is doing, e.g. "onebit train" */
  purpose: string;
}

export interface FolderLock {
  /** the lock file */
  path: string;
  /** set when a stale lock (its process gone) was taken over: a line for the user */
  note?: string;
  /** Remove the lock (only if it is still ours); also done when the process exits. */
  release(): void;
}

export class FolderLockedError extends OnebitError {
  constructor(
    readonly lockPath: string,
    readonly holder: LockHolder | undefined,
    message: string,
  ) {
    super("FOLDER_LOCKED", message);
    this.name = "FolderLockedError";
  }
}

function describeHolder(h: LockHolder): string {
  return `${h.purpose} (pid ${h.pid} on ${h.host}, started ${h.started})`;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as LockHolder;
    return typeof h?.pid === "number" && typeof h.host === "string" ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a pid on this host is running: signal 0 checks without signalling; EPERM means it exists (another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Take `dir`'s lock for this process (creating the folder), or throw FolderLockedError naming the holder.
 * The lock file is created with O_EXCL, so of two runs starting together exactly one wins. A lock left by a process
 * that no longer runs on this host is taken over (the returned `note` says so); one held from another host cannot
 * be checked and is refused, naming the file to delete if that run is known to be gone.
 */
export function lockFolder(dir: string, purpose: string): FolderLock {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), purpose };
  const mine = JSON.stringify(me);
  mkdirSync(dir, { recursive: true });
  let note: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx");
      try {
        writeSync(fd, mine);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new TrainWriteError(`${path}: cannot create the lock file (${(e as Error).message})`);
    }
    const holder = readHolder(path);
    if (!holder)
      throw new FolderLockedError(path, undefined, `${dir}: locked by ${path}, which names no holder (expected {pid, host, started}); delete it if no other run uses this folder`);
    const stale = holder.host === me.host && holder.pid !== process.pid && !processAlive(holder.pid);
    if (!stale || attempt > 0)
      throw new FolderLockedError(
        path,
        holder,
        holder.host === me.host
          ? `${dir}: in use by ${describeHolder(holder)}; wait for it to finish or choose another folder`
          : `${dir}: in use by ${describeHolder(holder)}; another host's process cannot be checked from here — delete ${path} if that run is gone`,
      );
    // move the stale file aside under a unique name (atomic: of two runs taking over, one moves it), then check that
    // what was moved is the stale lock we judged and not a live one another run had just created
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // another run moved it first: try the exclusive create again
    }
    const moved = readHolder(aside);
    if (moved?.pid !== holder.pid || moved.started !== holder.started) {
      renameSync(aside, path);
      continue;
    }
    rmSync(aside, { force: true });
    note = `took over the lock ${path} left by ${describeHolder(holder)}, which is no longer running`;
  }
  const release = () => {
    process.off("exit", release);
    try {
      if (readFileSync(path, "utf8") === mine) unlinkSync(path);
    } catch {
      // already gone: nothing to release
    }
  };
  // a lock must not outlive its process, even one that ends by process.exit (a second Ctrl-C)
  process.on("exit", release);
  return { path, note, release };
}
