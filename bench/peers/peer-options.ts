/** Command line of a peer server: the knobs the bench gives every server under test. */
import { parseArgs } from 'node:util';

export interface PeerOptions {
  host: string;
  port: number;
  heartbeatMs: number;
  retryMs: number;
  /** listen() backlog; Node's default (and Fastify's, so Tocsin's) is 511. */
  backlog: number;
  token: string;
}

export function peerOptions(argv: string[], env: NodeJS.ProcessEnv): PeerOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'heartbeat-ms': { type: 'string', default: '15000' },
      'retry-ms': { type: 'string', default: '3000' },
      backlog: { type: 'string', default: '511' },
    },
  });
  const token = env.BENCH_TOKEN;
  if (token === undefined || token === '') throw new Error('set BENCH_TOKEN to the bearer token to accept');
  return {
    host: values.host,
    port: Number(values.port),
    heartbeatMs: Number(values['heartbeat-ms']),
    retryMs: Number(values['retry-ms']),
    backlog: Number(values.backlog),
    token,
  };
}
