/**
 * @onebit/train's own errors. Each extends OnebitError with a stable `code`, so a caller (the CLI, a training page)
 * can tell a bad option from bad data, a missing backend, a diverged run or a failed worker without parsing
 * messages; the messages still name the option, file, step or worker. A checkpoint that cannot be resumed is a
 * TrainingStateError (training-state.ts) and a folder another run holds a FolderLockedError (checkpoint-files.ts).
 */
import { OnebitError } from "@onebit/quant";

/** Options that cannot work: a step or batch count, a worker count the spec cannot be split into, a call on a shard. */
export class TrainConfigError extends OnebitError {
  constructor(message: string) {
    super("TRAIN_CONFIG", message);
    this.name = "TrainConfigError";
  }
}

/** Training text or token rows that cannot be trained on: unreadable, empty, too short, ids outside the vocabulary. */
export class TrainDataError extends OnebitError {
  constructor(message: string) {
    super("TRAIN_DATA", message);
    this.name = "TrainDataError";
  }
}

/** A tfjs backend that is unknown, not registered in this environment, or fails to initialise. */
export class TrainBackendError extends OnebitError {
  constructor(message: string) {
    super("TRAIN_BACKEND", message);
    this.name = "TrainBackendError";
  }
}

/** The loss became NaN or infinite: the run cannot continue from this state (a lower learning rate may help). */
export class TrainDivergedError extends OnebitError {
  constructor(
    readonly step: number,
    readonly loss: number,
    message: string,
  ) {
    super("TRAIN_DIVERGED", message);
    this.name = "TrainDivergedError";
  }
}

/** A tensor-parallel worker failed (its own error is in the message), or the shards' states disagree. */
export class TrainWorkerError extends OnebitError {
  constructor(message: string) {
    super("TRAIN_WORKER", message);
    this.name = "TrainWorkerError";
  }
}

/** A training checkpoint, or the lock file of the folder it goes to, cannot be written. */
export class TrainWriteError extends OnebitError {
  constructor(message: string) {
    super("TRAIN_WRITE", message);
    this.name = "TrainWriteError";
  }
}
