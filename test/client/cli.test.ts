import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatAlarm, jsonLine, legacyCursorPath, runCli } from '../../client/commands.ts';
import { Alarm } from '../../protocol/index.ts';
import { cliEnv, runTocsin, TocsinProcess } from '../helpers/client-cli.ts';
import {
  busEnv,
  type Keyring,
  missingKeychain,
  type PrivateBus,
  startKeyring,
  startPrivateBus,
} from '../helpers/client-dbus.ts';
import { waitFor } from '../helpers/client-wait.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** The `tocsin` command end to end: a child process against the real server. */

let srv: TestServer;
let subToken: string;
let pubToken: string;
let home: string;
const processes: TocsinProcess[] = [];

beforeAll(async () => {
  srv = await startTestServer({ heartbeatMs: 500, retryMs: 50 });
  subToken = await srv.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
  pubToken = await srv.token({ user: 'ci', scope: 'publish', topics: ['ops'] });
});

afterAll(async () => {
  await srv.dispose();
});

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'tocsin-cli-'));
});

afterEach(async () => {
  for (const p of processes.splice(0)) await p.interrupt();
  await rm(home, { recursive: true, force: true });
});

/** No session bus at all: the keychain is unreachable, as on a bare server. */
const env = (extra: Record<string, string> = {}) =>
  cliEnv({ HOME: home, TOCSIN_AGENT_STATE_DIR: join(home, 'state'), ...extra });

function listen(args: string[], environment: NodeJS.ProcessEnv): TocsinProcess {
  const p = new TocsinProcess(['listen', ...args], environment);
  processes.push(p);
  return p;
}

describe('terminal output', () => {
  it('strips control characters from alarm lines, and JSON lines escape DEL and C1', () => {
    const alarm = {
      id: '1',
      time: 0,
      topic: 'ops',
      title: 'a\u001b]0;pwned\u0007b\u009b2J',
      body: 'one\r\ntwo\u001b[1A',
      priority: 3,
      tags: [],
    };
    const line = formatAlarm(alarm);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).toContain('a]0;pwnedb2J - one two[1A');
    const json = jsonLine(alarm);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(JSON.parse(json)).toEqual(alarm);
  });
});

describe('tocsin listen and publish', () => {
  it('prints alarms as lines or JSON, reports state on stderr, and resumes from its cursor', async () => {
    const text = listen([srv.url, '--topics', 'ops'], env({ TOCSIN_TOKEN: subToken }));
    await text.waitForStderr(/tocsin: live/);
    const published = await runTocsin(
      ['publish', srv.url, 'Disk full', '--topic', 'ops', '--body', 'on db-1\nand db-2', '--priority', '5'],
      env({ TOCSIN_TOKEN: pubToken }),
    );
    expect(published).toMatchObject({ code: 0, stderr: '' });
    expect(published.stdout).toMatch(/^published alarm \d+\n$/);
    const [line] = await text.waitForLines(1);
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z p5 #ops Disk full - on db-1 and db-2$/);
    expect(await text.interrupt()).toBe(0);
    // The state is on disk, under the data dir: one SQLite file, no temporary files.
    expect(await readdir(join(home, 'state', 'agent'))).toEqual([
      expect.stringMatching(/^[0-9a-f]{20}\.sqlite$/),
    ]);

    // Published while nobody listened: the next listen replays it, once, as JSON.
    await srv.publish(pubToken, { topic: 'ops', title: 'While away', priority: 2, tags: ['x'] });
    const json = listen([srv.url, '--topics', 'ops', '--json'], env({ TOCSIN_TOKEN: subToken }));
    await json.waitForStderr(/tocsin: live/);
    await srv.publish(pubToken, { topic: 'ops', title: 'Live one' });
    const lines = await json.waitForLines(2);
    const alarms = lines.map((l) => Alarm.parse(JSON.parse(l)));
    expect(alarms.map((a) => a.title)).toEqual(['While away', 'Live one']);
    expect(alarms[0]).toMatchObject({ topic: 'ops', priority: 2, tags: ['x'] });
    expect(await json.interrupt()).toBe(0);
    expect(json.lines).toHaveLength(2);
  });

  it('an upgrade carries the old cursor file over: only what came after it is shown', async () => {
    const seen = await srv.publish(pubToken, { topic: 'ops', title: 'Seen by the old version' });
    await srv.publish(pubToken, { topic: 'ops', title: 'Missed meanwhile' });
    const legacy = legacyCursorPath(join(home, 'state'), srv.url, ['ops']);
    await mkdir(dirname(legacy), { recursive: true });
    await writeFile(
      legacy,
      JSON.stringify({ version: 1, server: srv.url, id: seen.id, storeId: null, savedAt: 1 }),
    );
    const p = listen([srv.url, '--topics', 'ops'], env({ TOCSIN_TOKEN: subToken }));
    await p.waitForStderr(/tocsin: live/);
    await srv.publish(pubToken, { topic: 'ops', title: 'Sentinel' });
    const lines = await p.waitForLines(2);
    expect(lines.map((l) => / #ops (.*)$/.exec(l)?.[1])).toEqual(['Missed meanwhile', 'Sentinel']);
    expect(p.stderr).toMatch(/carried the cursor of the previous version over/);
    expect(existsSync(legacy)).toBe(false);
  });

  it('exits 3 with a clear message when the server rejects the token', async () => {
    const p = listen(
      [srv.url],
      env({ TOCSIN_TOKEN: 'tcs_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
    );
    expect(await p.exited()).toBe(3);
    expect(p.stderr).toMatch(/sign-in required: the token is unknown, malformed or revoked/);
    expect(p.stderr).toMatch(/run `tocsin login http:\/\/127\.0\.0\.1:\d+` to sign in again/);
    expect(p.stderr).not.toContain('tcs_000000000000');
  });

  it('exits 3 when not signed in, 4 when the keychain cannot be reached, 2 on usage errors', async () => {
    const noKeychain = await runTocsin(['listen', srv.url], env());
    expect(noKeychain.code).toBe(4);
    expect(noKeychain.stderr).toMatch(/OS keychain is not available/);
    expect(noKeychain.stderr).toMatch(/TOCSIN_TOKEN/);

    // Usage errors, in process (the same runCli the bin runs): fast, and no server needed.
    const usage = [
      ['listen'],
      ['listen', 'ftp://example.com'],
      ['publish', srv.url, 'x', '--priority', '9', '--topic', 'ops'],
      ['publish', srv.url, 'x'],
      ['publish', srv.url, 'x', '--topic', 'not a topic!'],
      ['login'],
      ['frobnicate'],
      ['listen', srv.url, '--bogus'],
    ];
    for (const args of usage) {
      const stderr = new PassThrough();
      let said = '';
      stderr.on('data', (chunk: Buffer) => {
        said += chunk.toString();
      });
      const code = await runCli(args, {
        env: { TOCSIN_TOKEN: pubToken },
        stdin: Readable.from([]),
        stdout: new PassThrough(),
        stderr,
      });
      expect(code, `tocsin ${args.join(' ')}: ${said}`).toBe(2);
      expect(said).toMatch(/^tocsin: /);
    }
  });

  it('publish reports server-side refusals with their reason', async () => {
    const forbidden = await runTocsin(
      ['publish', srv.url, 'x', '--topic', 'other'],
      env({ TOCSIN_TOKEN: pubToken }),
    );
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toMatch(/^tocsin: the token may not do that/);
    const down = await runTocsin(
      ['publish', 'http://127.0.0.1:9', 'x', '--topic', 'ops'],
      env({ TOCSIN_TOKEN: pubToken }),
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  it('login verifies the token first, and says so when it cannot remember it', async () => {
    const wrong = await runTocsin(
      ['login', srv.url],
      env(),
      'tcs_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n',
    );
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/the server rejected the token/);

    const unremembered = await runTocsin(['login', srv.url], env(), `${subToken}\n`);
    expect(unremembered.code).toBe(4);
    expect(unremembered.stderr).toMatch(
      /the token is valid \(user alice, scope subscribe\), but it cannot be remembered/,
    );
    expect(unremembered.stderr).not.toContain(subToken);
  });
});

const skipReason = missingKeychain('tocsin login/logout keychain tests');

describe.skipIf(skipReason !== null)('tocsin login, listen, logout with the OS keychain', () => {
  let bus: PrivateBus;
  let keyring: Keyring;

  beforeEach(async () => {
    bus = await startPrivateBus();
    keyring = await startKeyring(bus, { unlock: true });
  });

  afterEach(async () => {
    await keyring.stop();
    await bus.stop();
  });

  it('login stores the token in the keychain; listen uses it; logout forgets it', async () => {
    const withBus = () => busEnv(bus.address, { HOME: home, TOCSIN_AGENT_STATE_DIR: join(home, 'state') });
    const login = await runTocsin(['login', srv.url], withBus(), `${subToken}\n`);
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toMatch(
      /^Signed in to http:\/\/127\.0\.0\.1:\d+ as alice \(scope subscribe; ops\)\.\n$/,
    );

    const p = listen([srv.url, '--topics', 'ops'], withBus());
    await p.waitForStderr(/tocsin: live/);
    await srv.publish(pubToken, { topic: 'ops', title: 'via keychain' });
    // (A first listen without a cursor also prints what the server retains from earlier tests.)
    await waitFor('the alarm', () => p.lines.some((line) => line.endsWith(' #ops via keychain')));
    expect(await p.interrupt()).toBe(0);

    expect(await runTocsin(['logout', srv.url], withBus())).toMatchObject({ code: 0 });
    const after = await runTocsin(['listen', srv.url], withBus());
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/not signed in to http:\/\/127\.0\.0\.1:\d+: run `tocsin login/);
  });
});
