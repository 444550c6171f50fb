// @onebit/kv — low-bit KV caches and attention over them.
export { type DequantizeOps, KvCache, KvCacheError, KvCacheFullError, KV_CACHE_BITS, type KvBits, type KvCacheOptions, type KvStorage } from "./kv-cache";
export { attendCached, type AttentionOps, type AttentionOptions } from "./attention";
