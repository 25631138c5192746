/**
 * The server's OpenAPI v3 documents, one per group version (`apis/apps/v1`, `api/v1`, ...), read on
 * demand. `GET /openapi/v3` lists them, each with a URL that carries its content hash
 * (`/openapi/v3/apis/apps/v1?hash=...`); a document is fetched only when its hash is one this
 * object (or the disk cache) has not seen, so an unchanged document is never downloaded twice.
 */
import { ApiError, DecodeError } from "../core/errors.ts";
import type { CallOptions, RestClient } from "../rest/client.ts";
import type { DiskCache } from "./disk.ts";
import { NoMatchError } from "./errors.ts";
import { abortable } from "./util.ts";

/** An OpenAPI 3 document, as parsed JSON; `components.schemas` holds the kinds' schemas. */
export interface OpenApiDocument {
  openapi: string;
  info?: { title?: string; version?: string };
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown>; [k: string]: unknown };
  [k: string]: unknown;
}

/** `/openapi/v3`. */
interface OpenApiIndex {
  paths?: Record<string, { serverRelativeURL?: string }>;
}

export class OpenApiV3 {
  readonly #rest: RestClient;
  readonly #disk: DiskCache | undefined;
  #index: Promise<ReadonlyMap<string, string>> | undefined;
  /** path → the document last fetched and its hash. */
  readonly #docs = new Map<string, { hash: string; doc: Promise<OpenApiDocument> }>();
  #downloads = 0;

  constructor(rest: RestClient, options: { diskCache?: DiskCache | undefined } = {}) {
    this.#rest = rest;
    this.#disk = options.diskCache;
  }

  /** How many documents were downloaded (not served from a cache); for tests and metrics. */
  get downloads(): number {
    return this.#downloads;
  }

  /** Forgets the index, so the next call reads it again; documents stay cached by hash. */
  invalidate(): void {
    this.#index = undefined;
  }

  /**
   * The documents the server offers: path (`apis/apps/v1`) → server-relative URL with its hash.
   * Cached until `invalidate()` or `refresh`.
   */
  paths(options: CallOptions & { refresh?: boolean } = {}): Promise<ReadonlyMap<string, string>> {
    const { refresh, signal, timeoutMs } = options;
    if (refresh || !this.#index) {
      // Shared by every caller, so it runs under the timeout only; a signal ends one caller's wait.
      const call = timeoutMs === undefined ? {} : { timeoutMs };
      const p = this.#rest
        .json<OpenApiIndex>({ method: "GET", path: "/openapi/v3" }, call)
        .then((idx) => {
          const out = new Map<string, string>();
          for (const [path, entry] of Object.entries(idx?.paths ?? {})) {
            if (typeof entry?.serverRelativeURL === "string")
              out.set(path, entry.serverRelativeURL);
          }
          return out as ReadonlyMap<string, string>;
        });
      this.#index = p;
      p.catch(() => {
        if (this.#index === p) this.#index = undefined;
      });
    }
    return abortable(this.#index!, signal);
  }

  /**
   * The document of `path` (`apis/apps/v1`, `api/v1`, `apis/example.com/v1`). Served from memory
   * or the disk cache when the index names a hash already seen; if the index was stale (the server
   * answers a hash it no longer has with a redirect or 404), the index is read again once.
   */
  async document(path: string, options: CallOptions = {}): Promise<OpenApiDocument> {
    const key = path.replace(/^\/+/, "").replace(/^openapi\/v3\//, "");
    for (let attempt = 0; ; attempt++) {
      const url = (await this.paths(options)).get(key);
      if (url === undefined) {
        throw new NoMatchError(
          { arg: key },
          `the server has no OpenAPI v3 document ${JSON.stringify(key)}`,
        );
      }
      try {
        return await abortable(this.#get(key, url, options.timeoutMs), options.signal);
      } catch (err) {
        const stale = err instanceof ApiError && [301, 302, 404].includes(err.statusCode);
        if (!stale || attempt > 0) throw err;
        this.invalidate();
      }
    }
  }

  #get(path: string, url: string, timeoutMs: number | undefined): Promise<OpenApiDocument> {
    const q = url.indexOf("?");
    const hash = q < 0 ? "" : (new URLSearchParams(url.slice(q + 1)).get("hash") ?? "");
    const known = this.#docs.get(path);
    if (hash !== "" && known?.hash === hash) return known.doc;
    const server = this.#rest.server;
    const doc = (async () => {
      const cached = hash && (await this.#disk?.readOpenApi(server, path, hash));
      if (cached) {
        try {
          return JSON.parse(cached) as OpenApiDocument;
        } catch {
          // A damaged file: fetch the document again below.
        }
      }
      const text = await this.#rest.text(
        {
          method: "GET",
          path: q < 0 ? url : url.slice(0, q),
          ...(q < 0 ? {} : { query: new URLSearchParams(url.slice(q + 1)) }),
          accept: "application/json",
        },
        timeoutMs === undefined ? {} : { timeoutMs },
      );
      this.#downloads++;
      let parsed: OpenApiDocument;
      try {
        parsed = JSON.parse(text) as OpenApiDocument;
      } catch (cause) {
        throw new DecodeError(`GET ${url}: the response is not valid JSON`, {
          excerpt: text.slice(0, 300),
          cause,
        });
      }
      if (hash) await this.#disk?.writeOpenApi(server, path, hash, text).catch(() => {});
      return parsed;
    })();
    if (hash !== "") {
      this.#docs.set(path, { hash, doc });
      doc.catch(() => {
        if (this.#docs.get(path)?.doc === doc) this.#docs.delete(path);
      });
    }
    return doc;
  }
}
