/**
 * What the user picked → the ModelFiles `openModelFiles` reads: picked files (one .gguf, a folder's files, or one
 * .zip of a folder), or a URL (a .gguf or .zip file, or a folder: a URL ending in "/", whose files are fetched by
 * name). Runs in the model worker, so even unzipping stays off the page's thread.
 */
import { blobModelFiles, type ModelFiles, type NamedBlob } from "@onebit/model";
import { urlByteSource, UrlFileError } from "./url-byte-source";
import { isZip, readZip } from "./zip-reader";

export async function filesFromPicked(name: string, files: NamedBlob[]): Promise<ModelFiles> {
  if (files.length === 0) throw new Error("no files were picked");
  const only = files.length === 1 ? files[0]! : undefined;
  if (only && (only.name.toLowerCase().endsWith(".zip") || (await isZip(only.blob)))) return blobModelFiles(only.name, await readZip(only.blob, only.name));
  return blobModelFiles(name, files);
}

/** `list`: the folder's files when the page knows them (the shipped model), so nothing is probed. */
export async function filesFromUrl(url: string, list?: string[]): Promise<ModelFiles> {
  let parsed: URL;
  try {
    parsed = new URL(url, globalThis.location?.href);
  } catch {
    throw new UrlFileError(url, "not a URL");
  }
  const href = parsed.href;
  const base = parsed.pathname.slice(parsed.pathname.lastIndexOf("/") + 1);
  if (base.toLowerCase().endsWith(".zip")) {
    const r = await fetch(href).catch((e: Error) => {
      throw new UrlFileError(href, `cannot be fetched (${e.message})`);
    });
    if (!r.ok) throw new UrlFileError(href, `HTTP ${r.status} ${r.statusText}`);
    return blobModelFiles(base, await readZip(await r.blob(), href));
  }
  if (base !== "" && !/\.(json|safetensors)$/i.test(base)) {
    // one file (a .gguf, or anything else: the GGUF magic decides)
    return {
      name: href,
      list: [base],
      async open() {
        const s = await urlByteSource(href);
        if (!s) throw new UrlFileError(href, "HTTP 404: no such file");
        return s;
      },
    };
  }
  // a folder: the URL itself, or the folder of a file in it that was pasted
  const folder = href.slice(0, href.lastIndexOf("/") + 1);
  return { name: folder, list, open: (name) => urlByteSource(folder + name) };
}
