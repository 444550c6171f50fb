// @onebit/kernels — public API
export {};
