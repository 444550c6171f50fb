/**
 * A model's files without a file system: a picked .gguf, the files of a picked folder, a zip's entries, or a
 * folder on a web server. `openModelFiles` (open-model-files.ts) reads a model through this, the way `openModel`
 * reads a path; only the byte access differs (a Blob, an HTTP range), so the browser gets the same formats, checks
 * and error messages as Node.
 */
import { type ByteSource, blobByteSource } from "../weights/byte-source";

export interface ModelFiles {
  /** What the user picked (a file or folder name, a URL, a zip), for messages. */
  readonly name: string;
  /**
   * The file names it holds (relative to the model folder, "/"-separated), or undefined where they cannot be listed
   * (a folder on a web server): then `open` is asked for each file a format needs, and answers undefined if absent.
   */
  readonly list?: readonly string[];
  /** One file's bytes by name, or undefined when the model has no such file. */
  open(name: string): Promise<ByteSource | undefined>;
}

/** A file handed over with its name inside the model folder (a File from a picker or a zip entry as a Blob). */
export interface NamedBlob {
  name: string;
  blob: Blob;
}

/**
 * Picked files as a ModelFiles. Names may carry the picked folder ("my-model/config.json" from a directory
 * picker, a zip whose entries sit in one folder): the folder holding config.json (else the shortest common one) is
 * the model's root, and names are taken relative to it.
 */
export function blobModelFiles(name: string, files: readonly NamedBlob[]): ModelFiles {
  const clean = files.map((f) => ({ name: f.name.replace(/\\/g, "/").replace(/^\/+/, ""), blob: f.blob }));
  const config = clean.filter((f) => f.name === "config.json" || f.name.endsWith("/config.json")).sort((a, b) => a.name.length - b.name.length)[0];
  const root = config ? config.name.slice(0, -"config.json".length) : commonFolder(clean.map((f) => f.name));
  const byName = new Map<string, { blob: Blob; shown: string }>();
  for (const f of clean) if (f.name.startsWith(root)) byName.set(f.name.slice(root.length), { blob: f.blob, shown: f.name });
  return {
    name,
    list: [...byName.keys()],
    async open(file) {
      const f = byName.get(file);
      return f === undefined ? undefined : blobByteSource(f.blob, f.shown);
    },
  };
}

/** "a/b/x", "a/b/y" → "a/b/"; "" when the names share no folder. */
function commonFolder(names: string[]): string {
  if (names.length === 0) return "";
  let prefix = names[0]!.slice(0, names[0]!.lastIndexOf("/") + 1);
  for (const n of names) while (prefix && !n.startsWith(prefix)) prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf("/") + 1);
  return prefix;
}
