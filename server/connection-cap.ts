import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Caps open TCP connections per peer address: one host holding hundreds of sockets (slow bodies,
 * idle keep-alives, streams) cannot shut everyone else out. Counted at accept, before any HTTP
 * parsing; the connection over the cap is closed at once. Behind a reverse proxy every connection
 * comes from the proxy, so the operator raises or disables (0) the cap there.
 */
export function capConnectionsPerIp(
  server: Server,
  max: number,
  onRefused: (address: string) => void,
): { open(address: string): number } {
  const open = new Map<string, number>();
  if (max > 0) {
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      const count = open.get(address) ?? 0;
      if (count >= max) {
        onRefused(address);
        socket.destroy();
        return;
      }
      open.set(address, count + 1);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left === 0) open.delete(address);
        else open.set(address, left);
      });
    });
  }
  return { open: (address) => open.get(address) ?? 0 };
}
