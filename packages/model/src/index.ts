// @onebit/model — public API
export {};
