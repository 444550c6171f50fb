import wabtFactory from "wabt";
import { kernelsWat } from "../src/wasm/kernels.wat";

/** WAT → wasm bytes (base64), with the SIMD and threads features on (and relaxed SIMD for the relaxed module). */
export async function assembleKernels(relaxed = false): Promise<string> {
  const wabt = await wabtFactory();
  const module = wabt.parseWat(relaxed ? "kernels-relaxed.wat" : "kernels.wat", kernelsWat(relaxed), { simd: true, threads: true, relaxed_simd: relaxed });
  // wabt.js validate() ignores the threads feature (shared memory); V8 validates when it compiles the bytes.
  const { buffer } = module.toBinary({ log: false, write_debug_names: false });
  module.destroy();
  return Buffer.from(buffer).toString("base64");
}
