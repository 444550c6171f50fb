#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";
import { hugePagesEnv, runtimeGlibcVersion } from "./launch/huge-pages";
import { RELAUNCHED_ENV, relaunch } from "./launch/relaunch";
import { youngGenerationArgs } from "./launch/young-generation";

// a model command starts once more where this process lacks what it wants: huge pages for the file's bytes (read
// by glibc at start) and a small V8 young generation (read when V8 builds its heap); the child has both
const args = process.argv.slice(2);
const nodeArgs = youngGenerationArgs(process.env, process.execArgv, args);
const hugePages = hugePagesEnv(process.env, process.platform, runtimeGlibcVersion, args);
if ((nodeArgs || hugePages) && process.env[RELAUNCHED_ENV] !== "1") relaunch(hugePages ?? process.env, { nodeArgs });
else {
  delete process.env[RELAUNCHED_ENV]; // not for the processes this one starts
  void run();
}

async function run(): Promise<void> {
  // Node 20's V8 has relaxed SIMD (the wasm kernels' 16-products-per-instruction path) behind a flag; Node 22+ has
  // it on. Turning it on before any kernel module is compiled lets `simd: "auto"` pick the faster kernels, whose
  // integer results are identical to the baseline ones (the conformance suite checks both).
  setFlagsFromString("--experimental-wasm-relaxed-simd");

  // `onebit inspect m | head`: a closed pipe ends the command quietly, as Unix tools do
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });

  const { main } = await import("./program");
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // worker threads (wasm kernels) are released by each command; exit promptly even if a handle lingers
      setTimeout(() => process.exit(code), 50).unref();
    },
    (err) => {
      process.stderr.write(`onebit: error: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
