import { compareCodePoints, validateDNS1123Label } from "../core/validation.ts";

/** Go's sort order for the names kubectl prints (core's code-point comparison). */
export { compareCodePoints };

/** A namespace name: an RFC 1123 label (lower-case alphanumerics and '-', at most 63). */
export function isDNS1123Label(value: string): boolean {
  return validateDNS1123Label(value).length === 0;
}

const durationUnits: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3,
  "\u03bcs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's `time.ParseDuration` ("1h30m", "1.5s", "300ms"), in milliseconds; undefined if invalid. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)(.+)$/.exec(s);
  if (m === null) return undefined;
  let rest = m[2]!;
  if (rest === "0") return 0;
  let total = 0;
  while (rest !== "") {
    const part = /^(\d*(?:\.\d*)?)([a-zµμ]+)/.exec(rest);
    if (part === null || part[1] === "" || part[1] === ".") return undefined;
    const unit = durationUnits[part[2]!];
    if (unit === undefined) return undefined;
    total += Number(part[1]) * unit;
    rest = rest.slice(part[0].length);
  }
  return m[1] === "-" ? -total : total;
}

/**
 * clientcmd's `ParseTimeout`: a non-negative integer is seconds, anything else a Go duration.
 * Returns milliseconds, or undefined when the value is neither.
 */
export function parseTimeout(value: string): number | undefined {
  if (/^\+?\d+$/.test(value)) return Number(value) * 1000;
  return parseGoDuration(value);
}

/**
 * client-go's cleaning of an exec plugin's `installHint` before it is shown in a terminal: letters,
 * marks, numbers, punctuation, symbols, separators, tab and the line breaks stay; any other
 * character (ESC, other controls) is replaced by its `U+XXXX` name, so no escape sequence survives.
 */
export function cleanInstallHint(s: string): string {
  return s.replace(
    /[^\p{L}\p{M}\p{N}\p{P}\p{S}\p{Z}\t\n\v\f\r]/gu,
    (c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`,
  );
}
