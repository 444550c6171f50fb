/**
 * A small static file server for the built site (dist/): cross-origin isolation headers (COOP same-origin + COEP
 * require-corp, which the wasm backend's shared memory needs), byte ranges (models are read tensor by tensor over
 * HTTP), correct types for .wasm and .js, and no way out of the root. Used by `pnpm --filter @onebit/web serve`,
 * the end-to-end tests and the benchmark; `isolated: false` serves the same files without the headers (the tests
 * check what the page says then).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

export interface StaticServerOptions {
  root: string;
  host?: string;
  port?: number;
  /** send COOP/COEP (default true) */
  isolated?: boolean;
  /** every request line and status, for logs */
  onRequest?: (line: string) => void;
}

export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startStaticServer(o: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(o.root);
  const server = createServer(async (req, res) => {
    const done = (status: number) => o.onRequest?.(`${req.method} ${req.url} ${status}`);
    if (o.isolated !== false) {
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    }
    res.setHeader("Accept-Ranges", "bytes");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.statusCode = 405;
      res.end();
      return done(405);
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.statusCode = 400;
      res.end();
      return done(400);
    }
    if (path.endsWith("/")) path += "index.html";
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.statusCode = 403;
      res.end();
      return done(403);
    }
    let size: number;
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new Error("not a file");
      size = s.size;
    } catch {
      res.statusCode = 404;
      res.end("not found");
      return done(404);
    }
    res.setHeader("Content-Type", TYPES[extname(file).toLowerCase()] ?? "application/octet-stream");
    let start = 0;
    let end = size - 1;
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      if (m && (m[1] || m[2])) {
        if (m[1]) {
          start = Number(m[1]);
          end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
        } else {
          start = Math.max(0, size - Number(m[2]));
        }
      }
      if (!m || start > end || start >= size) {
        res.statusCode = 416;
        res.setHeader("Content-Range", `bytes */${size}`);
        res.end();
        return done(416);
      }
      res.statusCode = 206;
      res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
    }
    res.setHeader("Content-Length", end - start + 1);
    done(res.statusCode);
    if (req.method === "HEAD" || size === 0) {
      res.end();
      return;
    }
    createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? "127.0.0.1"}:${port}/`,
    server,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
