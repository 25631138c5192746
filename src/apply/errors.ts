/**
 * The errors of kubekit/apply. Each has a stable `code`; the message is for people.
 */
import { KubekitError } from "../core/errors.ts";

/**
 * A strategic merge patch that cannot be computed or applied: a list item without its merge key, a
 * list of lists, an unknown `$patch` directive, a kind with no patch metadata. apimachinery's
 * `mergepatch` errors.
 */
export class PatchError extends KubekitError {
  static override readonly brand: string = "PatchError";

  constructor(message: string, options?: { code?: string }) {
    super(message, { code: options?.code ?? "ERR_KUBEKIT_PATCH" });
  }
}

/**
 * A three-way merge patch without `overwrite` found a field that someone else changed since
 * `original` and that the patch would change differently (apimachinery's `ErrConflict`). `patch` is
 * the patch that was computed, `changed` what changed from `original` to `current`.
 */
export class PatchConflictError extends PatchError {
  static override readonly brand: string = "PatchConflictError";
  readonly patch: Record<string, unknown>;
  readonly changed: Record<string, unknown>;

  constructor(patch: Record<string, unknown>, changed: Record<string, unknown>) {
    super(
      `the patch changes fields that were changed since the original: patch ${JSON.stringify(patch)}, changed ${JSON.stringify(changed)}`,
      { code: "ERR_KUBEKIT_PATCH_CONFLICT" },
    );
    this.patch = patch;
    this.changed = changed;
  }
}

/**
 * A manifest that cannot be used: a document that does not parse or is not an object with
 * `apiVersion`, `kind` and `metadata.name`, or a kind the server does not serve. `index` is the
 * document's 0-based position in the stream (a `List`'s items share their list's), `line` its
 * 1-based line, `source` the file name when one was given.
 */
export class ManifestError extends KubekitError {
  static override readonly brand: string = "ManifestError";
  readonly source: string | undefined;
  readonly index: number | undefined;
  readonly line: number | undefined;
  readonly kind: string | undefined;

  constructor(
    message: string,
    options: {
      source?: string | undefined;
      index?: number | undefined;
      line?: number | undefined;
      kind?: string | undefined;
      cause?: unknown;
    } = {},
  ) {
    const where = [
      options.source,
      options.index === undefined ? undefined : `document ${options.index}`,
      options.line === undefined ? undefined : `line ${options.line}`,
    ]
      .filter((x) => x !== undefined)
      .join(", ");
    super(where ? `${where}: ${message}` : message, {
      code: "ERR_KUBEKIT_MANIFEST",
      cause: options.cause,
    });
    this.source = options.source;
    this.index = options.index;
    this.line = options.line;
    this.kind = options.kind;
  }
}
