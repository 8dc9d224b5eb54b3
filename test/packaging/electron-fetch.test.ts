// `npm start` when Electron's binary is missing: it is fetched with visible progress and installed by
// electron's own install.js, from a mirror served here on loopback (a stand-in Electron in a real zip,
// real SHA-256 sums); and where the download fails, npm start explains and exits non-zero.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureElectron, findElectron, progressLine } from '../../scripts/electron-binary.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(await readFile(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as {
  version: string;
};
const hasPython = spawnSync('python3', ['--version']).status === 0;
const skip =
  process.platform !== 'linux'
    ? 'the stand-in Electron is a Linux executable'
    : hasPython
      ? null
      : 'python3 (to write the zip) is missing';
if (skip !== null) console.warn(`SKIPPED electron fetch tests: ${skip}`);

describe('progressLine', () => {
  it('shows percent and megabytes', () => {
    expect(progressLine('45.4.1', { transferred: 41_234_567, total: 111_000_000, percent: 0.3714 })).toBe(
      'Downloading Electron 45.4.1: 37% (41.2 of 111.0 MB)',
    );
    expect(progressLine('45.4.1', { transferred: 5_000_000, total: null, percent: 0 })).toBe(
      'Downloading Electron 45.4.1: 0% (5.0 MB)',
    );
  });
});

describe.skipIf(skip !== null)('fetching Electron when it is missing', () => {
  let work: string;
  let electronDir: string;
  let mirror: Server;
  let mirrorUrl: string;
  const requested: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'tocsin-electron-fetch-'));
    // A project whose node_modules holds a fresh electron package (no binary) and links to the rest.
    const modules = join(work, 'node_modules');
    await mkdir(modules);
    for (const entry of await readdir(join(ROOT, 'node_modules'))) {
      if (entry === 'electron' || entry.startsWith('.')) continue;
      await symlink(join(ROOT, 'node_modules', entry), join(modules, entry));
    }
    electronDir = join(modules, 'electron');
    await mkdir(electronDir);
    for (const file of ['package.json', 'install.js', 'checksums.json', 'index.js', 'cli.js'])
      await copyFile(join(ROOT, 'node_modules/electron', file), join(electronDir, file));

    // The release archive: an executable `electron` and the `version` file install.js checks.
    const staging = join(work, 'zip');
    await mkdir(staging);
    await writeFile(join(staging, 'electron'), '#!/bin/sh\necho "stand-in electron $*"\n', { mode: 0o755 });
    await writeFile(join(staging, 'version'), version);
    const zipName = `electron-v${version}-linux-${process.arch}.zip`;
    const zipPath = join(work, zipName);
    const zipped = spawnSync('python3', [
      '-c',
      'import sys, zipfile, os\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n  for n in ("electron", "version"): z.write(os.path.join(sys.argv[2], n), n)',
      zipPath,
      staging,
    ]);
    expect(zipped.status, zipped.stderr.toString()).toBe(0);
    const zip = await readFile(zipPath);
    const sums = `${createHash('sha256').update(zip).digest('hex')} *${zipName}\n`;
    mirror = createServer((req, res) => {
      requested.push(req.url ?? '');
      if (req.url?.endsWith(`/${zipName}`)) {
        res.writeHead(200, { 'content-length': zip.length });
        res.end(zip);
      } else if (req.url?.endsWith('/SHASUMS256.txt')) res.end(sums);
      else res.writeHead(404).end();
    });
    mirror.listen(0, '127.0.0.1');
    await once(mirror, 'listening');
    mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/`;
  }, 60_000);

  afterAll(async () => {
    mirror?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const env = (over: Record<string, string>): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, electron_config_cache: join(work, 'cache'), ...over };
    delete e.ELECTRON_OVERRIDE_DIST_PATH;
    return e;
  };

  it('reports a failed download and installs nothing', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const lines: string[] = [];
    const result = await ensureElectron({
      electronDir,
      env: env({ ELECTRON_MIRROR: `http://127.0.0.1:${port}/`, electron_use_remote_checksums: '1' }),
      out: (line) => lines.push(line),
    });
    expect(result.available).toBe(false);
    expect(result.available === false && result.reason).toContain(`downloading Electron ${version} failed`);
    expect(findElectron(env({}), electronDir).available).toBe(false);
  });

  it("downloads with progress, installs with electron's install.js, and the binary runs", async () => {
    const lines: string[] = [];
    const result = await ensureElectron({
      electronDir,
      env: env({ ELECTRON_MIRROR: mirrorUrl, electron_use_remote_checksums: '1' }),
      out: (line) => lines.push(line),
    });
    expect(result, lines.join('\n')).toEqual({
      available: true,
      path: join(electronDir, 'dist', 'electron'),
    });
    expect(lines).toContain(`Downloading Electron ${version}: 100% (0.0 of 0.0 MB)`);
    expect(lines.at(-1)).toMatch(/^Installing Electron .*install\.js/);
    expect(requested.some((u) => u.endsWith('.zip'))).toBe(true);
    const ran = spawnSync(result.available ? result.path : '', ['.']);
    expect(ran.stdout.toString()).toBe('stand-in electron .\n');
    // Installed: the next start neither downloads nor runs the installer.
    const before = requested.length;
    expect((await ensureElectron({ electronDir, env: env({ ELECTRON_MIRROR: mirrorUrl }) })).available).toBe(
      true,
    );
    expect(requested.length).toBe(before);
  }, 60_000);
});

describe.skipIf(process.platform !== 'linux')('npm start without Electron and without a network', () => {
  it('explains and exits non-zero', async () => {
    if (findElectron().available)
      return expect.fail('this machine has Electron: the offline path is not reachable');
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const child = spawn(process.execPath, [join(ROOT, 'scripts/build-desktop.ts'), '--start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
        electron_config_cache: join(tmpdir(), 'tocsin-none'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain('npm start: cannot launch the desktop app.');
    expect(stderr).toContain(`downloading Electron ${version} failed`);
    expect(stderr).toContain('npm run server');
    expect(findElectron().available).toBe(false);
  }, 60_000);
});
