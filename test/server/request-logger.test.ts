import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from '../../server/request-logger.ts';

function parentLogger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = Fastify({ logger: { level, stream } });
  return { log: app.log, lines };
}

describe('request logger', () => {
  it('makes the pino child only for a line that is written, with the request id bound', () => {
    const { log, lines } = parentLogger('warn');
    const child = vi.spyOn(log, 'child');
    const logger = lazyChildLogger(log, { reqId: 'req-7' }, {});
    logger.info('not at warn');
    logger.debug({ x: 1 }, 'nor this');
    expect(child).not.toHaveBeenCalled();
    expect(logger.level).toBe('warn');
    logger.warn({ session: 's1' }, 'a warning');
    logger.error('an error');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'req-7', session: 's1', msg: 'a warning' }),
      expect.objectContaining({ level: 50, reqId: 'req-7', msg: 'an error' }),
    ]);
  });

  it('follows a level set on it, and a route level given to it', () => {
    const { log, lines } = parentLogger('warn');
    const routeLevel = lazyChildLogger(log, { reqId: 'a' }, { level: 'debug' });
    expect(routeLevel.level).toBe('debug');
    routeLevel.debug('route debug');
    const raised = lazyChildLogger(log, { reqId: 'b' }, {});
    raised.level = 'error';
    raised.warn('hidden');
    expect(lines.map((l) => l.msg)).toEqual(['route debug']);
  });
});
