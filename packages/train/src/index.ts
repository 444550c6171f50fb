// @onebit/train — train 1-bit models with tfjs.
export { useTrainBackend, TRAIN_BACKENDS, type TrainBackend, tf } from "./tf-backend";
export { fakeQuantActivation, fakeQuantWeight, straightThrough } from "./ste-quant";
export { TrainableModel } from "./trainable-model";
export { matMul } from "./matmul";
export { AdamW, type AdamWOptions } from "./adamw";
export { scheduleAt, type ScheduleKind, type ScheduleOptions } from "./schedule";
export { loadCorpus, loadBrownCorpus, loadTextCorpus, detokenizeBrown, splitDocuments, packSequences, type Corpus } from "./text-data";
export { train, type TrainOptions, type TrainProgress, type TrainResult } from "./trainer";
export { evaluate, prepareTrainingData, type TrainingData } from "./batches";
export { shardOf, unshard, type ShardContext } from "./trainable-model";
