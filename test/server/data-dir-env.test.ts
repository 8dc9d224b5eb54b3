import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyCursorPath } from '../../client/commands.ts';
import { cliEnv, TocsinProcess } from '../helpers/client-cli.ts';
import { runNode } from '../helpers/process.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * One name per directory: TOCSIN_SERVER_DATA_DIR (the server's data) and TOCSIN_AGENT_STATE_DIR
 * (`tocsin listen`'s cursor). The old TOCSIN_DATA_DIR, which meant both, still works for the server
 * with a deprecation note, and no longer sends the agent's state into the server's data dir.
 */

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tocsin-dirs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const tokenCreate = (env: Record<string, string>) =>
  runNode(['server/main.ts', 'token', 'create', '--user', 'ops', '--scope', 'admin'], {
    env: cliEnv({ HOME: join(root, 'home'), ...env }),
  });

const entries = (dir: string) => readdir(dir).catch(() => [] as string[]);

describe('the server data dir from the environment', () => {
  it('reads TOCSIN_SERVER_DATA_DIR, which wins over the deprecated TOCSIN_DATA_DIR', async () => {
    const dir = join(root, 'server-new');
    const old = join(root, 'server-old-ignored');
    const created = await tokenCreate({ TOCSIN_SERVER_DATA_DIR: dir, TOCSIN_DATA_DIR: old });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).not.toMatch(/deprecated/);
    expect(await entries(dir)).not.toEqual([]);
    expect(await entries(old)).toEqual([]);
  });

  it('still reads TOCSIN_DATA_DIR, and says to rename it', async () => {
    const dir = join(root, 'server-old');
    const created = await tokenCreate({ TOCSIN_DATA_DIR: dir });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/TOCSIN_DATA_DIR is deprecated: rename it to TOCSIN_SERVER_DATA_DIR/);
    expect(await entries(dir)).not.toEqual([]);
  });
});

describe("the agent's state dir from the environment", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => {
    await srv.dispose();
  });

  it("carries over a previous version's cursor from TOCSIN_DATA_DIR, where it used to be kept", async () => {
    const token = await srv.token({ user: 'bob', scope: 'subscribe' });
    const oldDir = join(root, 'old-agent-dir');
    const first = await srv.publish(srv.adminToken, { user: 'bob', title: 'before the upgrade' });
    const legacy = legacyCursorPath(oldDir, srv.url, []);
    await mkdir(dirname(legacy), { recursive: true });
    await writeFile(legacy, JSON.stringify({ version: 1, id: first.id, storeId: '' }));
    const listen = new TocsinProcess(
      ['listen', srv.url],
      cliEnv({ HOME: join(root, 'home-bob'), TOCSIN_TOKEN: token, TOCSIN_DATA_DIR: oldDir }),
    );
    await listen.waitForStderr(/tocsin: live/);
    expect(listen.stderr).toMatch(/carried the cursor of the previous version over/);
    // The sentinel: the next alarm arrives, and the one before the upgrade was not shown again.
    await srv.publish(srv.adminToken, { user: 'bob', title: 'after the upgrade' });
    const [line] = await listen.waitForLines(1);
    expect(line).toMatch(/after the upgrade$/);
    expect(await listen.interrupt()).toBe(0);
    expect(listen.lines).toHaveLength(1);
  });

  it('keeps its state under TOCSIN_AGENT_STATE_DIR, never under TOCSIN_DATA_DIR', async () => {
    const token = await srv.token({ user: 'alice', scope: 'subscribe' });
    const serverDir = join(root, 'a-server-dir');
    const stateDir = join(root, 'agent-state');
    for (const env of [
      { TOCSIN_DATA_DIR: serverDir, TOCSIN_AGENT_STATE_DIR: stateDir },
      { TOCSIN_DATA_DIR: serverDir, XDG_STATE_HOME: join(root, 'xdg') },
    ]) {
      const listen = new TocsinProcess(
        ['listen', srv.url],
        cliEnv({ HOME: join(root, 'home'), TOCSIN_TOKEN: token, ...env }),
      );
      await listen.waitForStderr(/tocsin: live/);
      await srv.publish(srv.adminToken, { user: 'alice', title: `to ${Object.keys(env).join(' ')}` });
      await listen.waitForLines(1);
      expect(await listen.interrupt()).toBe(0);
      if ('TOCSIN_AGENT_STATE_DIR' in env) expect(listen.stderr).not.toMatch(/note: TOCSIN_DATA_DIR/);
      else expect(listen.stderr).toMatch(/note: TOCSIN_DATA_DIR is the server's; listen keeps its state in /);
    }
    expect(await entries(join(stateDir, 'agent'))).not.toEqual([]);
    expect(await entries(join(root, 'xdg', 'tocsin', 'agent'))).not.toEqual([]);
    expect(await entries(serverDir)).toEqual([]);
  });
});
