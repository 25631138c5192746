/** Medians, ranges and the formatting of the bench's tables. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(values: readonly number[]): Summary | undefined {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: [...xs] };
}

export type Unit = "ms" | "bytes" | "per-s";

export function fmt(v: number | undefined, unit: Unit): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  switch (unit) {
    case "ms":
      return v >= 100 ? `${Math.round(v).toLocaleString("en-US")} ms` : `${v.toFixed(1)} ms`;
    case "bytes":
      return `${(v / 1e6).toFixed(1)} MB`;
    case "per-s":
      return `${Math.round(v).toLocaleString("en-US")}/s`;
  }
}

/** `median (min–max)` with the unit once. */
export function fmtSummary(s: Summary | undefined, unit: Unit): string {
  if (!s) return "—";
  if (s.runs.length === 1) return fmt(s.median, unit);
  const bare = (v: number) => fmt(v, unit).replace(/ ?(ms|MB|\/s)$/, "");
  return `${fmt(s.median, unit)} (${bare(s.min)}–${bare(s.max)})`;
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "—";
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
