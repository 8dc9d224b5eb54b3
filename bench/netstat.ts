/**
 * Kernel TCP counters (Linux /proc/net/netstat, machine-wide). A reconnect storm can overflow a
 * server's accept queue (listen backlog, 511 by default in Node): the kernel drops the handshake and
 * the client retransmits its SYN 1 s later, then 3 s, 7 s… Reported so storm times can be read right.
 */
import { readFileSync } from 'node:fs';

export interface ListenCounters {
  listenOverflows: number;
  synRetransmits: number;
}

export function listenCounters(): ListenCounters {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith('TcpExt:'));
  const names = (lines[at] ?? '').split(/\s+/);
  const values = (lines[at + 1] ?? '').split(/\s+/).map(Number);
  const get = (name: string) => values[names.indexOf(name)] ?? Number.NaN;
  return { listenOverflows: get('ListenOverflows'), synRetransmits: get('TCPSynRetrans') };
}
