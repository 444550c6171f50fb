/**
 * Big allocations on transparent huge pages (Linux with glibc ≥ 2.35). `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`
 * makes malloc madvise(MADV_HUGEPAGE) the mmap'd blocks behind large ArrayBuffers (a model file's bytes as read), so
 * their pages fault in 2 MiB at a time instead of 4 KiB. Where a page's first touch is dear this decides the load
 * time: on a 2-vCPU AMD EPYC KVM guest (≈ 11 µs a 4 KiB fault, THP in "madvise" mode) opening the 2B4T-shaped
 * TQ2_0 GGUF took 2.5–3.4 s instead of 4.1–5.1 s (minor faults 393 k → 190 k), with the same resident memory while
 * decoding. glibc reads tunables only when a process starts, so the CLI starts itself once more with the variable
 * set (the child sees it and runs the command). ONEBIT_HUGE_PAGES=0 turns this off; a GLIBC_TUNABLES that already
 * names glibc.malloc.hugetlb is left as it is.
 */
export const HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1";

/** The commands that open a model file (the start-again costs ≈ 0.1 s, paid only where a load can repay it). */
export const MODEL_COMMANDS: readonly string[] = ["eval", "generate", "chat", "serve", "inspect", "bench", "energy", "convert"];

/**
 * The environment to start the CLI again with for the command line `args`, or undefined to run the command in this
 * process. `glibcVersion` is asked last, only on Linux for a model command: Node's report that answers it takes ≈ 8 ms.
 */
export function hugePagesEnv(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, glibcVersion: () => string | undefined, args: readonly string[]): NodeJS.ProcessEnv | undefined {
  if (!MODEL_COMMANDS.includes(args[0] ?? "") || platform !== "linux" || env.ONEBIT_HUGE_PAGES === "0") return undefined;
  if (!glibcAtLeast(glibcVersion(), 2, 35)) return undefined;
  const current = env.GLIBC_TUNABLES ?? "";
  if (/(^|:)glibc\.malloc\.hugetlb=/.test(current)) return undefined;
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${HUGE_PAGES_TUNABLE}` : HUGE_PAGES_TUNABLE };
}

function glibcAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? "");
  if (!m) return false; // not glibc (musl, or no report): the tunable would mean nothing
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** The glibc this process runs on (Node's diagnostic report header), or undefined. */
export function runtimeGlibcVersion(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}
