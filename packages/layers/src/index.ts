// @onebit/layers — inference modules and their plain-data specs.
export * from "./bitlinear-variant";
export { BitLinear, forwardShared, quantizeBitLinearWeight, quantizeShared, validateBitLinearSpec, type BitLinearSpec, type SparsityCounter } from "./bit-linear";
export { Norm, validateNormSpec, type NormKind, type NormSpec } from "./norm";
export { FeedForward, type FeedForwardSpec, type FeedForwardWeights, type FfnActivation } from "./feed-forward";
export { AttentionLayer, type AttentionSpec, type AttentionWeights } from "./attention-layer";
