/**
 * Cross-copy `instanceof` for kubekit's classes.
 *
 * Two copies of kubekit can end up in one process (a library and the application each depend on
 * it). A plain `instanceof` would then fail for an error thrown by the other copy. Every branded
 * class answers `instanceof` by looking for its brand string under a `Symbol.for` key, which is the
 * same in every copy; values that carry no brand fall back to the prototype-chain check.
 */
export const kBrands: unique symbol = Symbol.for("kubekit.brands") as never;

interface Branded {
  readonly [kBrands]?: readonly string[];
}

/** The brands of a class and of every class it extends, most derived first. */
export function brandsOf(ctor: unknown): string[] {
  const out: string[] = [];
  for (let c = ctor as { brand?: unknown } | null; c && c !== Function.prototype; ) {
    if (Object.hasOwn(c, "brand") && typeof c.brand === "string") out.push(c.brand);
    c = Object.getPrototypeOf(c) as { brand?: unknown } | null;
  }
  return out;
}

export function hasBrand(value: unknown, brand: string): boolean {
  if (typeof value !== "object" || value === null) return false;
  const brands = (value as Branded)[kBrands];
  return Array.isArray(brands) && brands.includes(brand);
}
