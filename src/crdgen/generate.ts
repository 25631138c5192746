/**
 * The generator in one call: CustomResourceDefinitions in, module texts out.
 */
import type { CustomResourceDefinition } from "../api/apiextensions/v1/index.ts";
import { buildCrdModules, renderCrdModule } from "./module.ts";

export interface GenerateOptions {
  /** Keep only the CRDs of these groups. */
  groups?: readonly string[] | undefined;
}

/**
 * One module per group version the CRDs serve, by path relative to the output directory
 * (`<group>/<version>.ts`), in path order. The text depends only on the CRDs' specs (not on where
 * they were read from, their order, or their status), so a manifest and the same CRDs read back
 * from a cluster give the same modules.
 */
export function generate(
  crds: readonly CustomResourceDefinition[],
  options: GenerateOptions = {},
): Map<string, string> {
  const groups = options.groups && options.groups.length > 0 ? new Set(options.groups) : undefined;
  const picked = groups ? crds.filter((c) => groups.has(c.spec?.group)) : crds;
  return new Map(buildCrdModules(picked).map((m) => [m.path, renderCrdModule(m)]));
}
