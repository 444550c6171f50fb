// @onebit/model — public API
export * from "./model-spec";
