/**
 * Connections that leave the RestClient's pool. A WebSocket upgrade (exec, attach, port-forward)
 * takes over the TCP connection it was sent on, so it cannot borrow a pooled one: it needs a
 * dispatcher of its own that reaches the same server the same way, with the same TLS settings,
 * proxy, credentials and headers as the client's requests. `RestClient.upgradeSettings()` gives
 * that recipe; `upgradeDispatcher` turns it into a dispatcher.
 */
import type { Dispatcher } from "undici";
import type { CredentialSource } from "../auth/credentials.ts";
import type { HeaderMap } from "./http.ts";
import { type ClientCertificate, createDispatcher } from "./transport.ts";

/** How to open a connection of one's own to the server a RestClient talks to. */
export interface UpgradeSettings {
  /** `https://host:port[/prefix]` or `http://...`, as `RestConfig.server`. */
  readonly server: string;
  readonly ca?: string | Buffer | undefined;
  readonly insecureSkipTlsVerify?: boolean | undefined;
  readonly tlsServerName?: string | undefined;
  /** The proxy for this server, already resolved (explicit proxy-url or the environment). */
  readonly proxyUrl?: string | undefined;
  /** Asked once per connection for the Authorization header and client certificate. */
  readonly credentials?: CredentialSource | undefined;
  /** Lower-case names: User-Agent and the impersonation headers. */
  readonly headers: HeaderMap;
}

/**
 * A dispatcher for upgraded connections to `settings.server`, presenting `clientCertificate`: a
 * pool (HTTP/1.1 only: an upgrade needs it) or, when a proxy applies, a proxy agent tunnelling to
 * the server. An upgraded socket is detached from it, so the caller may destroy it as soon as the
 * handshake has settled, without touching the upgraded connection.
 */
export function upgradeDispatcher(
  settings: UpgradeSettings,
  clientCertificate?: ClientCertificate,
): Promise<Dispatcher> {
  return createDispatcher(
    {
      server: settings.server,
      ...(settings.ca !== undefined ? { ca: settings.ca } : {}),
      ...(settings.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
      ...(settings.tlsServerName ? { tlsServerName: settings.tlsServerName } : {}),
      ...(settings.proxyUrl ? { proxyUrl: settings.proxyUrl } : {}),
    },
    clientCertificate,
  );
}
