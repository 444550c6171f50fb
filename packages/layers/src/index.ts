// @onebit/layers — public API
export * from "./bitlinear-variant";
