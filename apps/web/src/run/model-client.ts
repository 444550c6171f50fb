/** The page's handle on the model worker (vite bundles the worker from the URL below). */
import { WorkerClient } from "../ui/worker-client";
import type { FromWorker, ToWorker } from "./worker-protocol";

export type ModelClient = WorkerClient<ToWorker, FromWorker>;

export function createModelClient(): ModelClient {
  return new WorkerClient<ToWorker, FromWorker>(() => new Worker(new URL("./model-worker.ts", import.meta.url), { type: "module", name: "onebit model" }), ["progress", "token"], "model worker");
}
