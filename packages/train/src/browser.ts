/**
 * @onebit/train/browser — the browser-safe part of @onebit/train: no node:fs, node:path or worker_threads, so a
 * bundler can put it in a page or a Web Worker. Train a ModelSpec on token rows in memory with `trainInMemory` on
 * tfjs webgl (the default in a browser), cpu or wasm; checkpoints arrive as TrainingState objects (onCheckpoint)
 * and resume from them (resumeFrom); the same loop and math as `train()` in Node.
 */
export { useTrainBackend, availableTrainBackends, defaultTrainBackend, TRAIN_BACKENDS, type TrainBackend, tf } from "./tf-backend";
export { activationStatistic, fakeQuantActivation, fakeQuantWeight, straightThrough, weightStatistics } from "./ste-quant";
export { TrainableModel, shardOf, unshard, type ShardContext } from "./trainable-model";
export { matMul } from "./matmul";
export { AdamW, type AdamWOptions } from "./adamw";
export { scheduleAt, type ScheduleKind, type ScheduleOptions } from "./schedule";
export { splitDocuments, packSequences, tokenRows, type Corpus } from "./token-rows";
export { trainInMemory, type InMemoryTrainOptions, type InMemoryTrainResult, type TrainHyperparameters, type TrainProgress } from "./train-in-memory";
export { trainLoop, type StepReport, type TrainLoopOptions, type TrainLoopResult } from "./train-loop";
export { captureTrainingState, TrainingStateError, type TrainHistory, type TrainingState } from "./training-state";
export { TrainBackendError, TrainConfigError, TrainDataError, TrainDivergedError, TrainWorkerError, TrainWriteError } from "./train-errors";
export { evaluate } from "./batches";
