/**
 * Can this kind of server be measured here? Starts it once and asks /healthz. For Tocsin (Redis) the
 * backend must exist (server/store/redis.ts) and the server must report `store: "redis"`: a server
 * that ignored --redis-url and ran on SQLite would otherwise be measured under the wrong name.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { health } from './health.ts';
import { ROOT, startServer, type TargetSpec } from './targets.ts';

/** true, or why not. */
export async function checkTarget(spec: TargetSpec): Promise<true | string> {
  if (spec.name === 'tocsin-redis' && !existsSync(join(ROOT, 'server/store/redis.ts'))) {
    return 'server/store/redis.ts does not exist yet';
  }
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    server = await startServer(spec, { heartbeatMs: 15_000 });
    const h = await health(server);
    if (h.status !== 'ok') return `/healthz says ${JSON.stringify(h)}`;
    if (spec.name === 'tocsin-redis' && h.store !== 'redis')
      return `the server runs on store "${h.store}", not redis`;
    return true;
  } catch (error) {
    return (error as Error).message.split('\n').slice(0, 3).join(' ');
  } finally {
    await server?.stop();
  }
}
