/** The page's handle on the training worker (vite bundles the worker from the URL below). */
import { WorkerClient } from "../ui/worker-client";
import type { FromTrainWorker, ToTrainWorker } from "./train-protocol";

export type TrainClient = WorkerClient<ToTrainWorker, FromTrainWorker>;

export function createTrainClient(): TrainClient {
  return new WorkerClient<ToTrainWorker, FromTrainWorker>(() => new Worker(new URL("./train-worker.ts", import.meta.url), { type: "module", name: "onebit training" }), ["status", "step"], "training worker");
}
