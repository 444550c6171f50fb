import wabtFactory from "wabt";
import { KERNELS_WAT } from "../src/wasm/kernels.wat";

/** WAT → wasm bytes (base64), with the SIMD and threads features on. */
export async function assembleKernels(): Promise<string> {
  const wabt = await wabtFactory();
  const module = wabt.parseWat("kernels.wat", KERNELS_WAT, { simd: true, threads: true });
  // wabt.js validate() ignores the threads feature (shared memory); V8 validates when it compiles the bytes.
  const { buffer } = module.toBinary({ log: false, write_debug_names: false });
  module.destroy();
  return Buffer.from(buffer).toString("base64");
}
