// @onebit/train — train 1-bit models with tfjs (Node entry; @onebit/train/browser is the browser-safe subset).
export { useTrainBackend, availableTrainBackends, defaultTrainBackend, TRAIN_BACKENDS, type TrainBackend, tf } from "./tf-backend";
export { activationStatistic, fakeQuantActivation, fakeQuantWeight, straightThrough, weightStatistics } from "./ste-quant";
export { TrainableModel } from "./trainable-model";
export { matMul } from "./matmul";
export { AdamW, type AdamWOptions } from "./adamw";
export { scheduleAt, type ScheduleKind, type ScheduleOptions } from "./schedule";
export { loadCorpus, loadBrownCorpus, loadTextCorpus, detokenizeBrown, splitDocuments, packSequences, tokenRows, type Corpus } from "./text-data";
export { train, type TrainOptions, type TrainResult } from "./trainer";
export { trainInMemory, type InMemoryTrainOptions, type InMemoryTrainResult, type TrainHyperparameters, type TrainProgress } from "./train-in-memory";
export { trainLoop, type StepReport, type TrainLoopOptions, type TrainLoopResult } from "./train-loop";
export { captureTrainingState, TrainingStateError, type TrainHistory, type TrainingState } from "./training-state";
export { TrainBackendError, TrainConfigError, TrainDataError, TrainDivergedError, TrainWorkerError, TrainWriteError } from "./train-errors";
export { readTrainingState, writeTrainingState, hasTrainingState, lockFolder, FolderLockedError, type FolderLock, type LockHolder } from "./checkpoint-files";
export { trainParallel, type ParallelTrainOptions } from "./parallel-trainer";
export { evaluate } from "./batches";
export { prepareTrainingData, type TrainingData } from "./training-data";
export { shardOf, unshard, type ShardContext } from "./trainable-model";
