/**
 * Kubernetes' name and value rules (apimachinery `pkg/util/validation` and
 * `pkg/api/validation/path`), as functions that return the reasons a value is invalid: an empty
 * array means valid. Lengths are counted in UTF-8 bytes, as the API server counts them.
 *
 * These check what the API server checks, no more: request building uses them to reject only values
 * that could never be accepted, and an in-memory server can use them to reject what the real one
 * rejects.
 */

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const encoder = new TextEncoder();

/** The length of `value` in UTF-8 bytes. */
export function utf8Length(value: string): number {
  return encoder.encode(value).length;
}

/** A DNS-1123 label (RFC 1123): what namespace names, and many other names, must be. */
export function validateDNS1123Label(value: string): string[] {
  if (value === "") return ["must not be empty"];
  const errs: string[] = [];
  if (utf8Length(value) > 63) errs.push("must be no more than 63 characters");
  if (!dns1123Label.test(value)) {
    errs.push(
      "must consist of lower-case letters, digits and '-', and start and end with a letter or digit (e.g. 'my-name' or '123-abc')",
    );
  }
  return errs;
}

/** A DNS-1123 subdomain: dot-separated labels, what most object names must be. */
export function validateDNS1123Subdomain(value: string): string[] {
  if (value === "") return ["must not be empty"];
  const errs: string[] = [];
  if (utf8Length(value) > 253) errs.push("must be no more than 253 characters");
  if (!dns1123Subdomain.test(value)) {
    errs.push(
      "must consist of lower-case letters, digits, '-' and '.', and each dot-separated part must start and end with a letter or digit (e.g. 'example.com')",
    );
  }
  return errs;
}

/**
 * A qualified name: an optional DNS-1123 subdomain prefix and `/`, then a name of at most 63
 * letters, digits, `-`, `_` and `.` that starts and ends with a letter or digit. Label keys and
 * annotation keys are qualified names.
 */
export function validateQualifiedName(value: string): string[] {
  const parts = value.split("/");
  if (parts.length > 2) {
    return [
      "must be a name of letters, digits, '-', '_' and '.' with an optional DNS subdomain prefix and one '/' (e.g. 'app' or 'example.com/app')",
    ];
  }
  const errs: string[] = [];
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === "") errs.push("prefix part must not be empty");
    else for (const e of validateDNS1123Subdomain(prefix)) errs.push(`prefix part ${e}`);
  }
  if (name === "") {
    errs.push("name part must not be empty");
    return errs;
  }
  if (utf8Length(name) > 63) errs.push("name part must be no more than 63 characters");
  if (!qualifiedNamePart.test(name)) {
    errs.push(
      "name part must consist of letters, digits, '-', '_' and '.', and start and end with a letter or digit (e.g. 'MyName', 'my.name' or '123-abc')",
    );
  }
  return errs;
}

/** A label value: empty, or at most 63 letters, digits, `-`, `_` and `.` that start and end with a letter or digit. */
export function validateLabelValue(value: string): string[] {
  if (value === "") return [];
  const errs: string[] = [];
  if (utf8Length(value) > 63) errs.push("must be no more than 63 characters");
  if (!qualifiedNamePart.test(value)) {
    errs.push(
      "must be empty or consist of letters, digits, '-', '_' and '.', and start and end with a letter or digit (e.g. 'MyValue', 'my_value' or '12345')",
    );
  }
  return errs;
}

/**
 * The only rule every name in a URL path obeys (apimachinery's `IsValidPathSegmentName`): it is not
 * `.` or `..` and holds no `/` or `%`. Each resource type adds its own rules on top (most want a
 * DNS-1123 subdomain, but RBAC roles allow `:` and some aggregated APIs allow more), and only the
 * server knows which apply. An empty name is reported too, since no object has one.
 */
export function validatePathSegmentName(value: string): string[] {
  if (value === "") return ["must not be empty"];
  if (value === "." || value === "..") return [`may not be '${value}'`];
  const errs: string[] = [];
  if (value.includes("/")) errs.push("may not contain '/'");
  if (value.includes("%")) errs.push("may not contain '%'");
  return errs;
}

/**
 * Percent-encodes one path segment. Everything RFC 3986 allows in a segment unescaped (unreserved
 * characters, sub-delimiters, `:` and `@`) stays readable, so `system:node:a` appears as is in URLs
 * and logs, as it does in client-go's. Returns undefined for a string that is not well-formed
 * Unicode (a lone surrogate), which has no UTF-8 encoding.
 */
export function encodePathSegment(segment: string): string | undefined {
  let encoded: string;
  try {
    encoded = encodeURIComponent(segment);
  } catch {
    return undefined;
  }
  return encoded.replace(/%(24|26|2B|2C|3A|3B|3D|40)/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 encodings and so the
 * order Go's sort gives. (JavaScript's default order compares UTF-16 units and differs for
 * characters beyond U+FFFF.)
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only a surrogate against a unit in U+E000..U+FFFF orders differently by code point.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (xs ? y >= 0xe000 : x >= 0xe000)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
