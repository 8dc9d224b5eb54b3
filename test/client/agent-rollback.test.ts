import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, TocsinProcess } from '../helpers/client-cli.ts';
import { runServerCli, type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';

/**
 * The server's history is rolled back while the agent is away: its data restored from an older
 * backup (same store id, ids issued again with other times) or replaced by nothing (a new store).
 * Real server processes on SQLite files, or on a real redis-server whose files are restored; `tocsin
 * listen` as a child process. The agent must show what was published after the restore, and nothing
 * it showed before.
 */

interface Backend {
  /** Extra `serve` arguments. */
  args(): string[];
  /** Stops whatever holds the data (the server is already stopped). */
  halt(): Promise<void>;
  resume(): Promise<void>;
  /** Where the data lives on disk while halted. */
  files(): string;
  dispose(): Promise<void>;
}

let root: string;
let server: ServerProcess | undefined;
let backend: Backend;
const processes: TocsinProcess[] = [];

const redisSkip = redisUnavailable();

async function sqliteBackend(): Promise<Backend> {
  const dataDir = join(root, 'data');
  return {
    args: () => [],
    halt: async () => {},
    resume: async () => {},
    files: () => dataDir,
    dispose: async () => {},
  };
}

async function redisBackend(): Promise<Backend> {
  const redis: RedisServer = await startRedis();
  return {
    args: () => ['--redis-url', redis.url()],
    halt: () => redis.stop('SIGTERM'),
    resume: () => redis.start(),
    files: () => redis.dir,
    dispose: () => redis.dispose(),
  };
}

afterEach(async () => {
  for (const p of processes.splice(0)) await p.interrupt();
  await server?.kill();
  server = undefined;
  await backend?.dispose();
  await rm(root, { recursive: true, force: true });
});

async function serve(port = 0): Promise<ServerProcess> {
  server = await spawnServer(
    join(root, 'data'),
    ['--heartbeat-ms', '500', '--retry-ms', '50', ...backend.args()],
    port,
  );
  return server;
}

/** The server's first-run admin token, or one minted with its CLI. */
async function adminToken(srv: ServerProcess): Promise<string> {
  if (srv.adminToken !== undefined) return srv.adminToken;
  const store = backend.args().length > 0 ? backend.args() : ['--data-dir', join(root, 'data')];
  const minted = await runServerCli(['token', 'create', '--user', 'admin', '--scope', 'admin', ...store]);
  const token = /tcs_\S+/.exec(minted.stdout)?.[0];
  if (token === undefined) throw new Error(`token create failed: ${minted.stdout} ${minted.stderr}`);
  return token;
}

async function publish(token: string, title: string): Promise<{ id: string; time: number }> {
  const response = await fetch(`${server?.url ?? ''}/v1/alarms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ topic: 'ops', title }),
  });
  if (response.status !== 201) throw new Error(`publish: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; time: number };
}

function listen(url: string, token: string): TocsinProcess {
  const p = new TocsinProcess(
    ['listen', url, '--topics', 'ops', '--since', 'all'],
    cliEnv({ HOME: root, TOCSIN_AGENT_STATE_DIR: join(root, 'agent'), TOCSIN_TOKEN: token }),
  );
  processes.push(p);
  return p;
}

const titlesOf = (p: TocsinProcess) => p.lines.map((l) => / #ops (.*)$/.exec(l)?.[1]);

/** Stops the server and its store, runs `change` on the store's files, starts both again. */
async function whileDown(port: number, change: (files: string) => Promise<void>): Promise<ServerProcess> {
  await server?.kill('SIGTERM');
  server = undefined;
  await backend.halt();
  await change(backend.files());
  await backend.resume();
  return serve(port);
}

async function replaceDir(target: string, from: string | null): Promise<void> {
  await rm(target, { recursive: true, force: true });
  if (from === null) await mkdir(target, { recursive: true });
  else await cp(from, target, { recursive: true });
}

for (const kind of ['sqlite', 'redis'] as const) {
  describe.skipIf(kind === 'redis' && redisSkip !== null)(`store rollback (${kind})`, () => {
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'tocsin-rollback-'));
      backend = kind === 'sqlite' ? await sqliteBackend() : await redisBackend();
    });

    it('restored from an older backup: what was published after the restore is shown, nothing twice', async () => {
      let srv = await serve();
      const port = Number(new URL(srv.url).port);
      const token = await adminToken(srv);
      await publish(token, 'a1');
      await publish(token, 'a2');
      const backup = join(root, 'backup');
      srv = await whileDown(port, (files) => cp(files, backup, { recursive: true }));

      const first = listen(srv.url, token);
      await first.waitForStderr(/tocsin: live/);
      await publish(token, 'a3');
      await publish(token, 'a4');
      await first.waitForLines(4);
      expect(titlesOf(first)).toEqual(['a1', 'a2', 'a3', 'a4']);
      // The laptop sleeps; meanwhile the server is restored from the backup and carries on.
      await first.interrupt();
      srv = await whileDown(port, (files) => replaceDir(files, backup));
      const b1 = await publish(token, 'b1');
      await publish(token, 'b2');
      // SQLite issues a3's id again (Redis ids carry the time, so they move on).
      if (kind === 'sqlite') expect(b1.id).toBe('3');

      const second = listen(srv.url, token);
      await second.waitForStderr(/tocsin: live/);
      await publish(token, 'sentinel');
      await second.waitForLines(3);
      expect(titlesOf(second)).toEqual(['b1', 'b2', 'sentinel']);
      if (kind === 'sqlite') {
        expect(second.stderr).toMatch(/reset or restored from a backup/);
        expect(second.stderr).toMatch(
          /2 alarms the server still holds after its reset shown above as history/,
        );
      }
    });

    it('emptied (a new store): what the new server holds is shown, as history', async () => {
      let srv = await serve();
      const port = Number(new URL(srv.url).port);
      const oldToken = await adminToken(srv);
      const first = listen(srv.url, oldToken);
      await first.waitForStderr(/tocsin: live/);
      for (const title of ['a1', 'a2', 'a3']) await publish(oldToken, title);
      await first.waitForLines(3);
      await first.interrupt();
      srv = await whileDown(port, (files) => replaceDir(files, null));

      // Tokens went with the data: the user signs in with the new server's token.
      const token = await adminToken(srv);
      await publish(token, 'c1');
      const second = listen(srv.url, token);
      await second.waitForStderr(/tocsin: live/);
      await publish(token, 'sentinel');
      await second.waitForLines(2);
      expect(titlesOf(second)).toEqual(['c1', 'sentinel']);
      expect(second.stderr).toMatch(/reset or restored from a backup/);
    });
  });
}
