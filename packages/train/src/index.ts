// @onebit/train — public API
export {};
