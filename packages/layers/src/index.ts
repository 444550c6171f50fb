// @onebit/layers — inference modules and their plain-data specs, written against the kernel contract of
// @onebit/kernels (activations pass from kernel to kernel; they may stay on a device backend).
export * from "./bitlinear-variant";
export {
  BitLinear,
  forwardShared,
  JoinedProjections,
  projectionsOfOneInput,
  quantizeBitLinearWeight,
  quantizeShared,
  validateBitLinearSpec,
  type BitLinearSpec,
  type SparsityCounter,
} from "./bit-linear";
export { Norm, validateNormSpec, type NormKind, type NormSpec } from "./norm";
export { FeedForward, type FeedForwardSpec, type FeedForwardWeights, type FfnActivation } from "./feed-forward";
export { AttentionLayer, type AttentionSpec, type AttentionWeights } from "./attention-layer";
export { LayerSpecError } from "./layer-spec-error";
export { Workspace, type WorkspaceOptions } from "./workspace";
