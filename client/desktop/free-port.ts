import { createServer } from 'node:net';

/** Whether `port` can be listened on at `host` right now (a real bind, closed at once). */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** A port the OS says is free at `host`. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The port the local server should use: the saved one when it is free, else one the OS picks, with
 * the sentence that tells the user why it moved. Another program on 8080 must not send the bundled
 * server into an endless restart loop (the reason of which could be lost with the child).
 */
export async function choosePort(
  host: string,
  wanted: number,
): Promise<{ port: number; moved: string | null }> {
  if (await portIsFree(host, wanted)) return { port: wanted, moved: null };
  const port = await freePort(host);
  return { port, moved: `port ${wanted} is in use by another program; using port ${port} instead (saved)` };
}
