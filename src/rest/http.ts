/**
 * The one dispatch primitive every request goes through, and the interceptor shape composed
 * around it (in the style of undici: an interceptor takes the next dispatch and returns a new one).
 */

/** Header values; an array sends the header once per value (e.g. one `Impersonate-Group` each). */
export type HeaderMap = Record<string, string | string[]>;

export interface HttpRequest {
  method: string;
  /** Path and query string, relative to the server URL (a server path prefix is added by the transport). */
  path: string;
  /** Lower-case header names. Interceptors add to a copy, never mutate the caller's object. */
  headers: HeaderMap;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /**
   * A streaming response (watch, log follow): no overall deadline applies, only stall detection
   * by the caller.
   */
  stream?: boolean;
  /**
   * The client certificate to present, set by the auth interceptor from the credential source.
   * The transport keeps one connection pool per certificate object and replaces it when a
   * different object arrives (an exec plugin or a reloaded file produced a new pair).
   */
  clientCertificate?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names, as undici gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
}

/**
 * A response body: iterate it for streams, or read it whole. Exactly one of these may be used;
 * `dump()` discards it so the connection can be reused. Breaking out of an iteration closes it.
 */
export interface ResponseBody extends AsyncIterable<Uint8Array> {
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
  dump(): Promise<void>;
}

export type Dispatch = (request: HttpRequest) => Promise<HttpResponse>;
export type Interceptor = (next: Dispatch) => Dispatch;

/** Composes interceptors so that the first in the list is the outermost. */
export function compose(base: Dispatch, interceptors: readonly Interceptor[]): Dispatch {
  let d = base;
  for (let i = interceptors.length - 1; i >= 0; i--) d = interceptors[i]!(d);
  return d;
}

export function headerValue(headers: HttpResponse["headers"], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function headerValues(headers: HttpResponse["headers"], name: string): string[] {
  const v = headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Collects an async iterable of chunks into one buffer. */
export async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const b = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    parts.push(b);
    size += b.length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

/** The source's own fast paths (undici's body has them), used when nothing is transformed. */
interface NativeBody extends AsyncIterable<Uint8Array> {
  bytes?(): Promise<Uint8Array>;
  text?(): Promise<string>;
  dump?(): Promise<void>;
  destroy?(err?: Error): void;
}

/**
 * Output chunk sizes for gunzip. Node's zlib runs each output chunk as one thread-pool job, and
 * its default of 16 KiB makes a 25 MB list ~1,600 round trips (a 2 MB one takes 10–13 ms to
 * inflate instead of 3–4). Whole bodies inflate in 256 KiB chunks; streams (watches, whose
 * initial events can be a whole list) in 64 KiB ones.
 */
const WHOLE_CHUNK = 256 * 1024;
const STREAM_CHUNK = 64 * 1024;

/** A whole gzip body, inflated as one job rather than chunk by chunk as it arrived. */
function gunzipWhole(compressed: Buffer): Promise<Buffer> {
  const zlib = process.getBuiltinModule("node:zlib");
  return new Promise((resolve, reject) => {
    zlib.gunzip(compressed, { chunkSize: WHOLE_CHUNK }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
  });
}

/** The whole body as one buffer, through the source's own `bytes()` when it has one. */
async function sourceBytes(source: NativeBody): Promise<Buffer> {
  if (!source.bytes) return readAll(source);
  const u = await source.bytes();
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Wraps an undici body, gunzipping it when the server compressed it. */
export function responseBody(source: NativeBody, encoding: string | undefined): ResponseBody {
  if (encoding === "gzip") {
    // The inflating stream exists only once the body is iterated: a list read whole never needs it.
    const piped = (async function* () {
      const gunzip = process.getBuiltinModule("node:zlib").createGunzip({
        chunkSize: STREAM_CHUNK,
      });
      const input = (async () => {
        try {
          for await (const chunk of source) {
            if (!gunzip.write(chunk)) await new Promise((r) => gunzip.once("drain", r));
          }
          gunzip.end();
        } catch (e) {
          gunzip.destroy(e as Error);
        }
      })();
      try {
        for await (const chunk of gunzip) yield chunk as Buffer;
        await input;
      } finally {
        source.destroy?.();
        gunzip.destroy();
      }
    })();
    const whole = async () => gunzipWhole(await sourceBytes(source));
    return {
      [Symbol.asyncIterator]: () => piped[Symbol.asyncIterator](),
      bytes: whole,
      text: async () => (await whole()).toString("utf8"),
      dump: async () => {
        source.destroy?.();
        await piped.return(undefined);
      },
    };
  }
  return {
    [Symbol.asyncIterator]: () => source[Symbol.asyncIterator](),
    bytes: () => sourceBytes(source),
    text: async () => (source.text ? source.text() : (await readAll(source)).toString("utf8")),
    dump: async () => {
      if (source.dump) await source.dump();
      else for await (const _ of source);
    },
  };
}
