/** Before/after counts of open sockets and timers, for the leak checks of streams and informers. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

export interface Handles {
  sockets: number;
  timers: number;
}

/** Open sockets (plain and TLS) and active timers of this process. */
export function handles(): Handles {
  const info = process.getActiveResourcesInfo();
  return {
    sockets: info.filter((r) => r === "TCPSocketWrap" || r === "TLSWrap").length,
    timers: info.filter((r) => r === "Timeout").length,
  };
}

/** Waits (briefly: sockets close asynchronously) for the counts to fall back to `start`'s. */
export async function assertNoLeaks(start: Handles): Promise<void> {
  let now = handles();
  for (let i = 0; i < 50 && (now.sockets > start.sockets || now.timers > start.timers); i++) {
    await sleep(100);
    now = handles();
  }
  assert.ok(now.sockets <= start.sockets, `sockets: ${start.sockets} before, ${now.sockets} after`);
  assert.ok(now.timers <= start.timers, `timers: ${start.timers} before, ${now.timers} after`);
}
