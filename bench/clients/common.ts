/**
 * What every Node client process of the bench shares: reading its own memory, percentiles, and
 * the one-JSON-object-per-line protocol with the orchestrator (`bench/run.ts`).
 *
 * Client processes run as plain JavaScript (the orchestrator strips the types of these files into
 * its runtime folder), so no TypeScript loader sits in their memory or their start-up time.
 */
import { readFileSync } from "node:fs";

/** The parameters of one run of one workload, as the orchestrator passes them (JSON in argv). */
export interface Params {
  /** The kubeconfig to use (the real API server, or the replay server's plain-HTTP one). */
  kubeconfig: string;
  namespace: string;
  /** The object of the small-request and start-up workloads. */
  name: string;
  /** Requests, events or updates to wait for. */
  n: number;
  /** Concurrency. */
  c: number;
  /** Page size for paginated lists; 0 lists in one request. */
  limit: number;
  /** The id the informer writer stamps on its updates. */
  run: string;
}

export function params(): { workload: string; p: Params } {
  const workload = process.argv[2] ?? "";
  const p = JSON.parse(process.argv[3] ?? "{}") as Params;
  return { workload, p };
}

/** VmRSS and VmHWM (the peak) of this process, in bytes. */
export function memory(): { rss: number; peakRss: number } {
  const s = readFileSync("/proc/self/status", "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? 0);
  return { rss: kb("VmRSS") * 1024, peakRss: kb("VmHWM") * 1024 };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(p * sorted.length) - 1));
  return sorted[i]!;
}

/** Writes one result line; the orchestrator takes the last line as the result. */
export function emit(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Runs `main`, emits its result (or the error) and exits, whatever handles are still open. */
export function main(fn: () => Promise<Record<string, unknown>>): void {
  fn().then(
    (result) => {
      emit(result);
      process.exit(0);
    },
    (err: unknown) => {
      emit({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    },
  );
}

/** Wall-clock now in epoch nanoseconds as a float of milliseconds (for cross-process lag). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Runs `n` calls of `fn` on `c` workers; returns the sorted latencies (ms) and the elapsed ms. */
export async function concurrently(
  n: number,
  c: number,
  fn: () => Promise<unknown>,
): Promise<{ ms: number; latencies: number[] }> {
  const latencies = new Array<number>(n);
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const t = performance.now();
      await fn();
      latencies[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
  const ms = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return { ms, latencies };
}

export function latencyResult(n: number, run: { ms: number; latencies: number[] }) {
  return {
    ms: run.ms,
    rps: n / (run.ms / 1000),
    p50: percentile(run.latencies, 0.5),
    p99: percentile(run.latencies, 0.99),
    ...memory(),
  };
}
