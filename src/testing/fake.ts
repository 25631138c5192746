/**
 * `fakeClient()`: client-go's fake Clientset idea for kubekit. A real `Client` whose transport is
 * an `InMemoryApiServer`, with every request recorded as an `Action` and a chain of reactors that
 * may answer a request before the server sees it.
 */
import { parse as parseYaml } from "yaml";
import { Client, type ClientOptions } from "../client/client.ts";
import { RestConfig } from "../config/rest-config.ts";
import { ApiError } from "../core/errors.ts";
import type { Verb } from "../core/resource.ts";
import type { HttpRequest, HttpResponse, ResponseBody } from "../rest/http.ts";
import type { Transport } from "../rest/transport.ts";
import { InMemoryApiServer, type InMemoryApiServerOptions } from "./server.ts";

/** The verb of an `Action`: the API verbs, as discovery and RBAC spell them. */
export type ActionVerb = Verb;

/** One request the client made, as client-go's fake records it. */
export interface Action {
  readonly verb: ActionVerb;
  readonly group: string;
  readonly version: string;
  /** The plural resource, e.g. `configmaps`. */
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  /** The body of a create or update (parsed JSON). */
  readonly object?: unknown;
  /** The body of a patch: parsed JSON, or parsed YAML for an apply patch. */
  readonly patch?: unknown;
  /** The Content-Type of a patch: `application/merge-patch+json`, ... */
  readonly patchType?: string;
  /** The query parameters (selectors, dryRun, fieldManager, ...). */
  readonly query: Readonly<Record<string, string>>;
}

/**
 * A reactor sees an action before the server does. It returns `undefined` to pass it on (to the
 * next reactor, and finally the server); returns a value to answer with it as JSON (201 for a
 * create, 200 otherwise; for a watch, an async iterable of `{ type, object }` events is streamed);
 * or throws an `ApiError` (see `newNotFound`, `newConflict`, ...) to answer with its Status. Any
 * other error is thrown by the transport, as a lost connection would be.
 */
export type Reactor = (action: Action) => unknown;

/** A verb and resource to match; `"*"` matches any. `"pods"` also matches `pods/status` etc. */
export type ReactorVerb = ActionVerb | "*";

export interface FakeClientOptions extends InMemoryApiServerOptions {
  /** The namespace the client uses when a call names none; `default`. */
  namespace?: string;
  /** Options for the `Client` (interceptors, a warning handler, ...). */
  clientOptions?: ClientOptions;
}

export interface FakeClient {
  /** A kubekit `Client` on the fake: `fake.client.api(ConfigMap)`. */
  readonly client: Client;
  /** The server behind it; objects can be added (`fake.server.add(...)`) at any time. */
  readonly server: InMemoryApiServer;
  /** Every action so far, oldest first (a copy). */
  readonly actions: Action[];
  /** Forgets the recorded actions. */
  clearActions(): void;
  /** Puts a reactor before every other one. */
  prependReactor(verb: ReactorVerb, resource: string, reactor: Reactor): void;
  /** Puts a reactor after every other one (but before the server). */
  addReactor(verb: ReactorVerb, resource: string, reactor: Reactor): void;
  /** Closes the client and the server. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Entry {
  verb: ReactorVerb;
  resource: string;
  reactor: Reactor;
}

function verbOf(method: string, hasName: boolean, watch: boolean): ActionVerb | undefined {
  switch (method) {
    case "GET":
      return watch ? "watch" : hasName ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return hasName ? "delete" : "deletecollection";
    default:
      return undefined;
  }
}

function text(body: HttpRequest["body"]): string {
  if (body === undefined) return "";
  return typeof body === "string"
    ? body
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString();
}

function parsed(body: string, yaml: boolean): unknown {
  if (body === "") return undefined;
  try {
    return yaml ? parseYaml(body) : JSON.parse(body);
  } catch {
    return body;
  }
}

function matches(e: Entry, a: Action): boolean {
  if (e.verb !== "*" && e.verb !== a.verb) return false;
  if (e.resource === "*") return true;
  const slash = e.resource.indexOf("/");
  if (slash < 0) return e.resource === a.resource;
  return e.resource.slice(0, slash) === a.resource && e.resource.slice(slash + 1) === a.subresource;
}

function bodyOf(text: string): ResponseBody {
  const bytes = Buffer.from(text, "utf8");
  return {
    async *[Symbol.asyncIterator]() {
      yield bytes;
    },
    bytes: async () => bytes,
    text: async () => text,
    dump: async () => {},
  };
}

function streamOf(events: AsyncIterable<unknown>): ResponseBody {
  const iterate = async function* () {
    for await (const ev of events) yield Buffer.from(`${JSON.stringify(ev)}\n`);
  };
  return {
    [Symbol.asyncIterator]: iterate,
    bytes: async () => {
      const parts: Buffer[] = [];
      for await (const c of iterate()) parts.push(c);
      return Buffer.concat(parts);
    },
    text: async () => "",
    dump: async () => {},
  };
}

/**
 * A `Client` backed by a fresh `InMemoryApiServer` holding `objects` (stored as they are, see
 * `InMemoryApiServer.add`), with the actions it sends recorded and reactors in front of the server.
 *
 * ```ts
 * const fake = fakeClient({ objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }] });
 * fake.prependReactor("delete", "configmaps", () => { throw newConflict({ group: "", resource: "configmaps" }, "a"); });
 * await myController(fake.client);
 * assert.deepEqual(fake.actions.map((a) => a.verb), ["get", "update"]);
 * ```
 */
export function fakeClient(options: FakeClientOptions = {}): FakeClient {
  const { namespace, clientOptions, ...serverOptions } = options;
  const server = new InMemoryApiServer(serverOptions);
  const reactors: Entry[] = [];
  let actions: Action[] = [];

  const transport: Transport = {
    async dispatch(req: HttpRequest): Promise<HttpResponse> {
      const url = new URL(req.path, "http://in-memory");
      const target = server.resolvePath(req.path);
      if (!target) return server.transport.dispatch(req);
      const watch =
        url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
      const verb = verbOf(req.method, target.name !== undefined, watch);
      if (!verb) return server.transport.dispatch(req);
      const body = text(req.body);
      const contentType = String(req.headers["content-type"] ?? "")
        .split(";")[0]!
        .trim();
      const action: Action = {
        verb,
        group: target.group,
        version: target.version,
        resource: target.resource,
        namespace: target.namespace,
        name: target.name,
        subresource: target.subresource,
        ...(verb === "create" || verb === "update" ? { object: parsed(body, false) } : {}),
        ...(verb === "patch"
          ? {
              patch: parsed(body, contentType === "application/apply-patch+yaml"),
              patchType: contentType,
            }
          : {}),
        query: Object.fromEntries(url.searchParams),
      };
      actions.push(action);
      for (const e of [...reactors]) {
        if (!matches(e, action)) continue;
        let answer: unknown;
        try {
          answer = await e.reactor(action);
        } catch (err) {
          if (err instanceof ApiError) {
            return {
              status: err.statusCode,
              headers: { "content-type": "application/json" },
              body: bodyOf(JSON.stringify(err.status)),
            };
          }
          throw err;
        }
        if (answer === undefined) continue;
        if (verb === "watch" && typeof answer === "object" && answer !== null) {
          if (Symbol.asyncIterator in answer) {
            return {
              status: 200,
              headers: { "content-type": "application/json" },
              body: streamOf(answer as AsyncIterable<unknown>),
            };
          }
        }
        return {
          status: verb === "create" ? 201 : 200,
          headers: { "content-type": "application/json" },
          body: bodyOf(JSON.stringify(answer)),
        };
      }
      return server.transport.dispatch(req);
    },
    close: async () => {},
  };

  const config = new RestConfig({
    server: "http://in-memory.kubekit.invalid",
    namespace: namespace ?? "default",
  });
  const client = new Client(config, { qps: -1, maxRetries: 0, ...clientOptions, transport });
  return {
    client,
    server,
    get actions() {
      return [...actions];
    },
    clearActions() {
      actions = [];
    },
    prependReactor(verb, resource, reactor) {
      reactors.unshift({ verb, resource, reactor });
    },
    addReactor(verb, resource, reactor) {
      reactors.push({ verb, resource, reactor });
    },
    async close() {
      await client.close();
      await server.close();
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}
