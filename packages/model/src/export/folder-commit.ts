/**
 * Writing a model folder atomically: everything goes into a fresh sibling folder, which is renamed onto the
 * destination only when complete, so a reader never sees half a model and an interrupted export leaves nothing
 * at the destination. The destination must not exist yet (or be an empty folder): exports never overwrite.
 */
import { OnebitError } from "@onebit/quant";
import { mkdir, readdir, rename, rm, rmdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export class ExportDestinationError extends OnebitError {
  constructor(message: string) {
    super("EXPORT_DESTINATION", message);
    this.name = "ExportDestinationError";
  }
}

export async function writeFolderAtomically(dest: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  let existing: string[] | undefined;
  try {
    existing = await readdir(dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new ExportDestinationError(`${dest}: exists and is a file; give a new folder`);
    if (code !== "ENOENT") throw new ExportDestinationError(`${dest}: cannot be checked (${code})`);
  }
  if (existing && existing.length > 0) throw new ExportDestinationError(`${dest}: exists and is not empty; give a new folder (exports never overwrite)`);
  await mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    await write(tmp);
    if (existing) await rmdir(dest);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
