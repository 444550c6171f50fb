/** The scheduler's counters in Prometheus' text exposition format (GET /metrics). */
import type { SchedulerMetrics } from "@onebit/model";

export function prometheusText(m: SchedulerMetrics, extra: { httpRejected: number }): string {
  const lines: string[] = [];
  const metric = (name: string, type: "counter" | "gauge", help: string, value: number | Array<[string, number]>) => {
    lines.push(`# HELP onebit_${name} ${help}`, `# TYPE onebit_${name} ${type}`);
    if (typeof value === "number") lines.push(`onebit_${name} ${value}`);
    else for (const [labels, v] of value) lines.push(`onebit_${name}{${labels}} ${v}`);
  };
  metric("requests_total", "counter", "Generation requests submitted to the scheduler.", m.requestsTotal);
  metric("requests_rejected_total", "counter", "Requests refused (queue full, over the KV budget, invalid).", m.requestsRejected + extra.httpRejected);
  metric(
    "requests_finished_total",
    "counter",
    "Requests finished, by reason.",
    Object.entries(m.requestsFinished).map(([reason, n]) => [`reason="${reason}"`, n]),
  );
  metric("queue_depth", "gauge", "Requests waiting for a slot.", m.queueDepth);
  metric("active_slots", "gauge", "Sequences being generated.", m.activeSlots);
  metric("slots", "gauge", "Sequences decoded together at most (--parallel).", m.parallel);
  metric("prompt_tokens_total", "counter", "Prompt tokens prefilled.", m.promptTokens);
  metric("tokens_generated_total", "counter", "Tokens generated.", m.tokensGenerated);
  metric("tokens_per_second", "gauge", "Tokens generated per second over the last 10 s.", m.tokensPerSecond);
  metric("decode_steps_total", "counter", "Batched decode steps run.", m.decodeSteps);
  metric("kv_bytes_in_use", "gauge", "KV-cache bytes held by active sequences.", m.kvBytesInUse);
  metric("kv_bytes_budget", "gauge", "KV-cache byte budget (0 = unlimited).", m.kvBudgetBytes);
  return `${lines.join("\n")}\n`;
}
