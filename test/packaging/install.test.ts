// `npm ci` on a machine without any OS package: keytar (an optional dependency) cannot build, npm
// leaves it out, and the server and the `tocsin` CLI still work; `tocsin login` says what to install.
// The project is copied the way a fresh clone has it (git's tracked + untracked-not-ignored files)
// and installed with the same lockfile, production dependencies only (the runtime is what must not
// need OS packages; dev tools are for contributors). pkg-config is pointed at an empty dir so
// libsecret is "not installed", and prebuilt keytar binaries are refused so the build is attempted.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/client-wait.ts';
import { type RunResult, type ServerProcess, spawnServer } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

let dir: string;
let app: string;
let install: { stdout: string; stderr: string };
let server: ServerProcess | undefined;

/** No session bus, no keychain, no pkg-config path: a bare machine. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    LANG: 'C.UTF-8',
    PKG_CONFIG_PATH: join(dir, 'no-pkgconfig'),
    PKG_CONFIG_LIBDIR: join(dir, 'no-pkgconfig'),
    ...extra,
  };
}

async function tocsin(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<RunResult> {
  const child = spawn(process.execPath, [join(app, 'bin/tocsin.js'), ...args], { cwd: app, env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-install-'));
  app = join(dir, 'tocsin');
  await mkdir(join(dir, 'no-pkgconfig'));
  await mkdir(join(dir, 'home'));
  const { stdout: files } = await run(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    },
  );
  for (const file of files.split('\0').filter((f) => f !== '')) {
    const from = join(ROOT, file);
    if (!(await stat(from).catch(() => null))?.isFile()) continue; // deleted in the work tree
    await mkdir(dirname(join(app, file)), { recursive: true });
    await cp(from, join(app, file));
  }
  install = await run(
    'npm',
    ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'],
    {
      cwd: app,
      env: bareEnv({
        // The user's npm cache (the registry's tarballs); nothing else of this machine's npm config.
        npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '', '.npm'),
        // prebuild-install would fetch a prebuilt keytar from GitHub: refuse, so the build is tried.
        npm_config_build_from_source: 'true',
        ...(process.env.npm_config_nodedir && { npm_config_nodedir: process.env.npm_config_nodedir }),
      }),
      maxBuffer: 64 << 20,
      timeout: 240_000,
    },
  );
}, 300_000);

afterAll(async () => {
  await server?.kill();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('npm ci without libsecret (keytar cannot build)', () => {
  it('succeeds, leaves keytar out, and the postinstall says how to get the keychain', async () => {
    await expect(stat(join(app, 'node_modules/keytar/build/Release/keytar.node'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await stat(join(app, 'node_modules/fastify/package.json'));
    // The build was attempted and failed for want of libsecret; npm carried on without it.
    expect(`${install.stdout}${install.stderr}`).toMatch(/gyp ERR! \$npm_package_name keytar/);
    expect(install.stderr).toMatch(/keytar \(the OS keychain module\) is not installed.*TOCSIN_TOKEN/s);
  });

  it('runs tocsin-server, and the CLI listens and publishes with TOCSIN_TOKEN', async () => {
    server = await spawnServer(join(dir, 'server-data'), [], 0, {
      root: app,
      entry: 'bin/tocsin-server.js',
      env: bareEnv(),
    });
    const admin = server.adminToken as string;
    expect(admin).toMatch(/^tcs_/);

    const help = await tocsin(['--help'], bareEnv());
    expect(help.code).toBe(0);

    // login verifies the token, then says exactly what to install or how to proceed.
    const login = await tocsin(['login', server.url], bareEnv(), `${admin}\n`);
    expect(login.code).toBe(4);
    expect(login.stderr).toMatch(
      /OS keychain is not available: its module, keytar, is not installed or did not build/,
    );
    expect(login.stderr).toMatch(/libsecret-1-dev/);
    expect(login.stderr).toMatch(/npm rebuild keytar/);
    expect(login.stderr).toMatch(/TOCSIN_TOKEN/);
    expect(login.stderr).not.toContain(admin);

    const listener = spawn(
      process.execPath,
      [join(app, 'bin/tocsin.js'), 'listen', server.url, '--topics', 'install'],
      { cwd: app, env: bareEnv({ TOCSIN_TOKEN: admin, TOCSIN_AGENT_STATE_DIR: join(dir, 'agent') }) },
    );
    let out = '';
    let err = '';
    listener.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    listener.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    try {
      await waitFor(`listen to go live (${err})`, () => /tocsin: live/.test(err), 20_000);
      const published = await tocsin(
        ['publish', server.url, 'Installed without libsecret', '--topic', 'install'],
        bareEnv({ TOCSIN_TOKEN: admin }),
      );
      expect(published).toMatchObject({ code: 0, stderr: '' });
      await waitFor(
        `the alarm (${out} ${err})`,
        () => out.includes('#install Installed without libsecret'),
        20_000,
      );
    } finally {
      listener.kill('SIGINT');
      await once(listener, 'exit');
    }
  });
});
