// @onebit/cli
export {};
