/**
 * Measure 6 — beyond one process: 1, 2 and 4 Tocsin instances on one Redis behind nginx (least_conn
 * over the instances, buffering off: the deployment docs/scale-out.md describes). Subscribers and the
 * publisher reach the instances only through nginx. At each size: fan-out latency to every subscriber,
 * then the storm (all at once, the agent's headers), lost = 0 and duplicates = 0 checked (checks.ts).
 * Server CPU is the instances' (all threads) plus Redis's; nginx's is not counted.
 */

import { startNginx } from '../../test/helpers/nginx.ts';
import { startRedis } from '../../test/helpers/redis.ts';
import { trackPid } from '../children.ts';
import { sleep } from '../clock.ts';
import { health } from '../health.ts';
import { cpuNs } from '../proc-stats.ts';
import { BENCH_TOPIC, Publisher } from '../publisher.ts';
import { SubscriberPool } from '../subscribers.ts';
import { BENCH_REDIS, type RunningServer, startServer, TARGETS } from '../targets.ts';
import type { FanoutConfig, FanoutResult } from './fanout.ts';
import { type AlarmCursor, measureFanout } from './fanout.ts';
import { measureStorm, type StormConfig, type StormResult, type StormServer, warningsIn } from './storm.ts';

export interface ScaleConfig {
  instances: number[];
  subscribers: number;
  fanout: Pick<FanoutConfig, 'alarms' | 'timeoutMs'>;
  storm: Omit<StormConfig, 'subscribers'>;
  heartbeatMs: number;
}

export interface ScalePoint {
  instances: number;
  fanout: FanoutResult;
  storm: StormResult;
}

const nginxConf = (servers: RunningServer[]) => (port: number) =>
  `
  upstream tocsin {
    least_conn;
${servers.map((s) => `    server ${s.host}:${s.port};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://tocsin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }`;

async function measureSize(
  instances: number,
  config: ScaleConfig,
  workers: number,
  log: (line: string) => void,
): Promise<ScalePoint> {
  const redis = await startRedis(BENCH_REDIS);
  trackPid(() => redis.pid);
  const servers: RunningServer[] = [];
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  let pool: SubscriberPool | undefined;
  let publisher: Publisher | undefined;
  try {
    const spec = TARGETS['tocsin-redis'];
    // The first instance on a fresh Redis prints the admin token; the others share it.
    const first = await startServer(spec, {
      heartbeatMs: config.heartbeatMs,
      shared: { redisUrl: redis.url() },
    });
    servers.push(first);
    for (let i = 1; i < instances; i++) {
      servers.push(
        await startServer(spec, {
          heartbeatMs: config.heartbeatMs,
          shared: { redisUrl: redis.url(), token: first.token },
        }),
      );
    }
    nginx = await startNginx(nginxConf(servers), {
      workerProcesses: 2,
      workerConnections: 2 * config.subscribers + 1_024,
    });
    const front = new URL(nginx.url);
    const endpoint = { host: front.hostname, port: Number(front.port), token: first.token };
    pool = await SubscriberPool.start({ ...endpoint, path: `/v1/stream?topics=${BENCH_TOPIC}` }, workers);
    publisher = await Publisher.start(endpoint);
    const connected = await pool.resize(config.subscribers);
    if (connected.failed > 0)
      throw new Error(`${connected.failed} streams failed to open: ${JSON.stringify(connected.failures)}`);
    const cursor: AlarmCursor = { lastId: -1 };
    const fanout = await measureFanout(pool, publisher, cursor, config.subscribers, {
      sizes: [config.subscribers],
      ...config.fanout,
    });
    const cluster: StormServer = {
      cpuNs: () =>
        servers.reduce((n, s) => n + cpuNs(s.pid), 0) + (redis.pid === undefined ? 0 : cpuNs(redis.pid)),
      streams: async () =>
        (await Promise.all(servers.map((s) => health(s)))).reduce((n, h) => n + h.streams, 0),
      kill: async () => {
        await Promise.all(servers.map((s) => s.kill()));
      },
      warnings: () => servers.flatMap((s) => warningsIn(s.stderr())),
    };
    const storm = await measureStorm(
      cluster,
      pool,
      publisher,
      cursor,
      { ...config.storm, subscribers: config.subscribers },
      'instant',
    );
    log(
      `    ${instances} instance(s): fan-out ${config.subscribers} p50 ${fanout.p50.toFixed(1)} ms, p99 ${fanout.p99.toFixed(1)} ms; ` +
        `storm all caught up ${storm.caughtUpMs === Number.POSITIVE_INFINITY ? '> cap' : `${storm.caughtUpMs.toFixed(0)} ms`}, ` +
        `${Math.round(storm.deliveriesPerSec)} deliveries/s, lost ${storm.verify.lost}, duplicates ${storm.verify.duplicates}, ` +
        `CPU instances+Redis ${(storm.serverCpuMs / 1000).toFixed(1)} s`,
    );
    return { instances, fanout, storm };
  } finally {
    pool?.stop();
    publisher?.stop();
    await nginx?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await redis.dispose();
    await sleep(200);
  }
}

export async function measureScale(
  config: ScaleConfig,
  workers: number,
  log: (line: string) => void,
): Promise<ScalePoint[]> {
  const points: ScalePoint[] = [];
  for (const n of config.instances) points.push(await measureSize(n, config, workers, log));
  return points;
}
