import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, TocsinProcess } from '../helpers/client-cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** What `tocsin listen` prints is safe for a terminal, whatever a publisher put in an alarm. */

let srv: TestServer;
let home: string;
beforeAll(async () => {
  srv = await startTestServer();
  home = await mkdtemp(join(tmpdir(), 'tocsin-cli-out-'));
});
afterAll(async () => {
  await srv.dispose();
  await rm(home, { recursive: true, force: true });
});

describe('tocsin listen output', () => {
  it('strips control characters: no escape sequence, bell or forged line reaches the terminal', async () => {
    const sub = await srv.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const pub = await srv.token({ user: 'ci', scope: 'publish', topics: ['ops'] });
    const listen = new TocsinProcess(
      ['listen', srv.url, '--topics', 'ops'],
      cliEnv({ HOME: home, TOCSIN_TOKEN: sub, TOCSIN_AGENT_STATE_DIR: join(home, 'state') }),
    );
    try {
      await listen.waitForStderr(/tocsin: live/);
      await srv.publish(pub, {
        topic: 'ops',
        title: 'Disk \u001b]0;pwned\u0007full\u001b[2J',
        body: 'line one\r\n2026-01-01T00:00:00.000Z p5 #ops forged\u0008\u009b\tend',
      });
      const [line] = await listen.waitForLines(1);
      expect(line).toBe(
        `${line?.slice(0, 24)} p3 #ops Disk ]0;pwnedfull[2J - line one 2026-01-01T00:00:00.000Z p5 #ops forged end`,
      );
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
      expect(listen.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    } finally {
      await listen.interrupt();
    }
  });
});
