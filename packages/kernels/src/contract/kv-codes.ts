/**
 * Packed KV-cache codes as the kernels see them (@onebit/kv's f16 and low-bit stores): on a host backend a byte
 * stream (`Uint8Array`, b-bit codes little-endian from a bit offset) or halves (`Uint16Array`); on a device backend
 * a tensor from `allocF32` whose 32-bit words hold the same bytes, little-endian (two halves per word, the lower
 * index in the low 16 bits). The store is allocated once per cache and written in place by the KV kernels
 * (quantizeUnsignedInto, encodeHalf) and read by their decoders (dequantizeUnsigned, decodeHalf).
 */
import { type DeviceTensor, isDeviceTensor, ResidencyError } from "./tensors";

/** A low-bit code stream: host bytes, or a device tensor whose words hold them. */
export type KvCodes = Uint8Array | DeviceTensor;

/** IEEE half codes: a host Uint16Array, or a device tensor holding two per word. */
export type HalfCodes = Uint16Array | DeviceTensor;

/** The host array behind packed codes; a device tensor here is a caller's mistake, named. */
export function hostCodes<T extends Uint8Array | Uint16Array>(x: T | DeviceTensor, what: string, kind: "Uint8Array" | "Uint16Array"): T {
  if (!isDeviceTensor(x)) {
    if ((kind === "Uint8Array" && x instanceof Uint8Array) || (kind === "Uint16Array" && x instanceof Uint16Array)) return x as T;
    throw new ResidencyError(`${what}: expected a ${kind} of codes, got ${(x as object)?.constructor?.name ?? typeof x}`);
  }
  throw new ResidencyError(`${what}: got codes resident on the ${x.owner} device where host memory (a ${kind}) is needed`);
}
