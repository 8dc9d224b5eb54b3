// The systemd unit in docs/operations.md: systemd-analyze accepts it without a warning, and its exact
// ExecStart flags and Environment= start a working server (on port 0, in a temporary data dir).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../helpers/client-dbus.ts';
import { codeBlocks } from '../helpers/markdown-blocks.ts';
import { requirement } from '../helpers/requirements.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

const block = codeBlocks(ROOT, 'docs/operations.md').find((b) => b.info.includes('systemd-unit'));

/** [section] key=value lines; a key may repeat (Environment=). */
function parseUnit(text: string): Map<string, [string, string][]> {
  const sections = new Map<string, [string, string][]>();
  let current: [string, string][] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header !== null) {
      current = [];
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq <= 0) throw new Error(`not a unit file line: ${raw}`);
    current.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return sections;
}

/** The documented paths, pointing at this checkout and this Node. */
const localise = (text: string) =>
  text.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/tocsin', ROOT.replace(/\/$/, ''));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-unit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the systemd unit in docs/operations.md', () => {
  it('is a unit file with the sections and keys a service needs', () => {
    expect(block, 'a ```ini systemd-unit block').toBeDefined();
    const unit = parseUnit(block?.body ?? '');
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    const service = new Map(unit.get('Service'));
    expect(service.get('ExecStart')).toMatch(
      /^\/usr\/bin\/node \/opt\/tocsin\/bin\/tocsin-server\.js serve /,
    );
    expect(service.get('KillSignal')).toBe('SIGTERM');
    expect(service.get('StateDirectory')).toBe('tocsin');
  });

  const analyze = which('systemd-analyze');
  const skip = requirement(
    'systemd unit verification',
    analyze === null ? 'systemd-analyze not found (Debian: apt-get install systemd)' : null,
  );
  it.skipIf(skip !== null)('passes systemd-analyze verify without a warning', async () => {
    const file = join(dir, 'tocsin.service');
    await writeFile(file, localise(block?.body ?? ''));
    const result = await run('systemd-analyze', ['verify', '--man=no', file]).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(`${result.stdout}${result.stderr}`.trim(), 'systemd-analyze output').toBe('');
  });

  it('starts a working server with its ExecStart flags and Environment=', async () => {
    const service = parseUnit(localise(block?.body ?? '')).get('Service') ?? [];
    const [node, ...args] = (service.find(([key]) => key === 'ExecStart')?.[1] ?? '').split(/\s+/);
    const data = join(dir, 'state');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
    for (const [, value] of service.filter(([k]) => k === 'Environment')) {
      const eq = value.indexOf('=');
      env[value.slice(0, eq)] = value.slice(eq + 1).replace('/var/lib/tocsin', data);
    }
    const port = args.indexOf('--port');
    args[port + 1] = '0';
    const child = spawn(node as string, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          stdout += c;
          const match = /^listening on (http:\/\/\S+)$/m.exec(stdout);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // TOCSIN_SERVER_DATA_DIR from the unit is where the store went.
      expect(await readdir(data)).toContain('tocsin.sqlite');
      expect(stdout).toMatch(/Created the first admin token/);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
