// @onebit/layers — public API
export {};
