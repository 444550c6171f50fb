// @onebit/model — ModelSpec and presets, the Transformer, generation, tokenizer and checkpoints.
export * from "./model-spec";
export { preset, presetByName, bitnet2B4TSpec, bitnetify, PRESET_NAMES, type PresetSize } from "./presets";
export { tensorList, projectionShape, projectionName, parameterCounts, initWeights, initStd, numel, type InitOptions, type TensorInfo } from "./tensor-names";
export { Transformer, bitLinearSpecFor, type ModelWeights, type TransformerOptions } from "./transformer";
export { generate, type GenerateOptions, type GeneratedToken, type GenerationStats } from "./generate";
export { sampleToken, seededRandom, validateSampling, type SamplingOptions } from "./sampling";
export { BpeTokenizer, trainBpeTokenizer, SPECIAL_TOKENS, type BpeTokenizerJson } from "./bpe-tokenizer";
export { encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors, SafetensorsError, type SafeTensor, type SafetensorsDtype } from "./safetensors";
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from "./checkpoint";
export { estimateEnergy, ENERGY_PJ, type EnergyEstimate, type ProcessNode } from "./energy";
export { runtimeReport, type RuntimeReport } from "./runtime-report";
export { randomPackedWeights } from "./random-weights";
export { benchmarkModel, type ModelBenchmark } from "./model-benchmark";
export { perplexity, type PerplexityResult } from "./perplexity";
