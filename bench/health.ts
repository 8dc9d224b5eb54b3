/** `GET /healthz` of a server under test: Tocsin and both peers answer `{status, streams[, store]}`. */

import { sleep } from './clock.ts';
import type { RunningServer } from './targets.ts';

export interface Health {
  status: string;
  streams: number;
  store?: string;
}

export async function health(server: RunningServer): Promise<Health> {
  const response = await fetch(`http://${server.host}:${server.port}/healthz`);
  return (await response.json()) as Health;
}

/** Polls until the server counts `streams` open streams (e.g. 0 after a drop); false on timeout. */
export async function waitForStreams(
  server: RunningServer,
  streams: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await health(server)).streams === streams) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}
