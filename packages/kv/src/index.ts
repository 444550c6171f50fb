// @onebit/kv — public API
export {};
