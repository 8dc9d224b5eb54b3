// Builds the desktop app (scripts/build-desktop.ts) into a temporary directory, then checks:
// - each bundle imports only what will exist at run time (electron, keytar, node builtins);
// - the preload loads with the `require` of a sandboxed renderer (electron + a few polyfills only);
// - the embedded server bundle runs on its own, away from node_modules, the way utilityProcess runs it;
// - electron-builder's unpacked Linux layout, built offline with a stub Electron, holds the bundles,
//   the windows and the icons in app.asar, keytar's native addon in app.asar.unpacked, and nothing else
//   from node_modules.
// Everything is built in a temp dir, so this never races other tests that build dist/renderer.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import {
  chmod,
  copyFile,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { parseAst } from 'rolldown/parseAst';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpcChannel } from '../../client/desktop/api.ts';
import type { EmbeddedMessage } from '../../protocol/index.ts';
import { BUNDLES, type BundleSpec, buildDesktop } from '../../scripts/build-desktop.ts';
import { TRAY_STATES } from '../../scripts/make-icons.ts';
import { requirement } from '../helpers/requirements.ts';
import { configuredFuses, packagedFuses } from './fuses.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as { listPackage(archive: string, options?: object): string[] };
const EXPECTED_IN_ASAR = [
  'package.json',
  'dist/main/index.js',
  'dist/main/preload.cjs',
  'dist/server/embedded.js',
  ...TRAY_STATES.map((icon) => `dist/main/icons/tray-${icon}.ico`),
  'dist/renderer/signin.html',
  'dist/renderer/history.html',
  'dist/renderer/settings.html',
  ...TRAY_STATES.flatMap((icon) => [
    `assets/icons/tray-${icon}.png`,
    `assets/icons/tray-${icon}@2x.png`,
    `assets/icons/tray-${icon}Template.png`,
    `assets/icons/tray-${icon}Template@2x.png`,
  ]),
];

/** @electron/fuses' marker before the fuse wire in Electron's binary. */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Electron's own fuse defaults ('1' on, '0' off) in wire order (FuseV1Options). */
const ELECTRON_DEFAULT_FUSES = '10110001';

let work: string;
let app: string;
let dist: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tocsin-pack-'));
  app = join(work, 'app');
  dist = join(app, 'dist');
  await buildDesktop({ outDir: dist });
}, 120_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** Every module specifier a built file loads: static/dynamic imports, re-exports and require() calls. */
function loadedModules(code: string, file: string): string[] {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    const n = node as Record<string, unknown> & { type?: string };
    const literal = (v: unknown) =>
      v !== null && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'string'
        ? ((v as { value: string }).value as string)
        : undefined;
    if (
      n.type === 'ImportDeclaration' ||
      n.type === 'ExportAllDeclaration' ||
      n.type === 'ExportNamedDeclaration' ||
      n.type === 'ImportExpression'
    ) {
      const source = literal(n.source);
      if (source !== undefined) found.add(source);
    }
    if (n.type === 'CallExpression') {
      const callee = n.callee as { type?: string; name?: string } | undefined;
      const args = n.arguments as unknown[] | undefined;
      if (
        callee?.type === 'Identifier' &&
        /^(require|__require)$/.test(callee.name ?? '') &&
        args?.length === 1
      ) {
        const source = literal(args[0]);
        if (source !== undefined) found.add(source);
      }
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'type') visit(value);
  };
  visit(parseAst(code, { sourceType: 'module' }, file));
  return [...found];
}

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

describe('desktop bundles', () => {
  for (const spec of BUNDLES) {
    it(`${spec.output} loads only its externals`, async () => {
      const file = join(dist, spec.output);
      const code = await readFile(file, 'utf8');
      const allowed = (id: string) =>
        spec.external.includes(id) || (spec.platform === 'node' && builtins.has(id));
      expect(loadedModules(code, file).filter((id) => !allowed(id))).toEqual([]);
      if (spec.format === 'esm') expect(code).not.toMatch(/\bDynamic require of\b/);
    });
  }

  it('preload.cjs runs with only what a sandboxed preload can require', async () => {
    const preload = BUNDLES.find((b): b is BundleSpec => b.name === 'preload');
    if (preload === undefined) throw new Error('no preload bundle');
    const code = await readFile(join(dist, preload.output), 'utf8');
    const exposed = new Map<string, unknown>();
    const invoked: string[] = [];
    // The Electron runtime cannot exist here: this stands in for the parts a preload touches.
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
      ipcRenderer: {
        invoke: async (channel: string) => {
          invoked.push(channel);
          return undefined;
        },
        on: () => undefined,
        off: () => undefined,
        removeListener: () => undefined,
        send: () => undefined,
      },
      webFrame: {},
      webUtils: {},
    };
    const sandboxModules: Record<string, unknown> = {
      electron,
      events: require('node:events'),
      timers: require('node:timers'),
      url: require('node:url'),
    };
    const sandboxRequire = (id: string) => {
      const name = id.replace(/^node:/, '');
      if (!(name in sandboxModules)) throw new Error(`a sandboxed preload cannot require('${id}')`);
      return sandboxModules[name];
    };
    const module = { exports: {} };
    runInNewContext(code, { require: sandboxRequire, module, exports: module.exports, console, process: {} });
    expect([...exposed.keys()]).toEqual(['tocsin']);
    // Every request method of the typed API reaches main on its own channel.
    const api = exposed.get('tocsin') as Record<string, (...args: unknown[]) => unknown>;
    for (const [method, channel] of Object.entries(IpcChannel)) {
      await api[method]?.();
      expect(invoked.at(-1), method).toBe(channel);
    }
    expect(typeof api.onState).toBe('function');
    expect(typeof api.onHistory).toBe('function');
  });

  it('the embedded server bundle runs alone, far from node_modules, and serves alarms', async () => {
    const server = BUNDLES.find((b) => b.name === 'server');
    if (server === undefined) throw new Error('no server bundle');
    // A directory with no node_modules above it: every import must be bundled or built in.
    const alone = join(work, 'alone');
    await mkdir(alone, { recursive: true });
    await copyFile(join(dist, server.output), join(alone, 'embedded.js'));
    await writeFile(join(alone, 'package.json'), '{"type":"module"}\n');
    const start = { host: '127.0.0.1', port: 0, dataDir: join(alone, 'data'), user: 'me' };
    const child: ChildProcess = fork(join(alone, 'embedded.js'), [JSON.stringify(start)], {
      cwd: alone,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = once(child, 'exit');
    try {
      const next = (type: EmbeddedMessage['type']) =>
        new Promise<EmbeddedMessage>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no '${type}' message; stderr:\n${stderr}`)),
            15_000,
          );
          const onMessage = (m: EmbeddedMessage) => {
            if (m.type !== type && m.type !== 'failed') return;
            clearTimeout(timer);
            child.off('message', onMessage);
            if (m.type === 'failed') reject(new Error(`server failed: ${m.code} ${m.message}`));
            else resolve(m);
          };
          child.on('message', onMessage);
          child.once('exit', (code) => reject(new Error(`server exited with ${code}; stderr:\n${stderr}`)));
        });
      const listening = await next('listening');
      if (listening.type !== 'listening') throw new Error('unreachable');
      const tokensMessage = next('tokens');
      child.send({ type: 'provision' });
      const tokens = await tokensMessage;
      if (tokens.type !== 'tokens' || tokens.publish === undefined) throw new Error('no publish token');
      const response = await fetch(`${listening.url}/v1/alarms`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.publish}`, 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'packaging', title: 'bundled server works' }),
      });
      expect(response.status, await response.clone().text()).toBe(201);
      child.send({ type: 'stop' });
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  }, 30_000);
});

/** Runs electron-builder to completion in its own process group, killed whole on timeout. */
async function electronBuilder(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  const cli = require.resolve('electron-builder/cli.js');
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: app,
    detached: process.platform !== 'win32',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CSC_IDENTITY_AUTO_DISCOVERY: 'false',
      ELECTRON_BUILDER_CACHE: join(work, 'cache'),
    },
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  const timer = setTimeout(() => {
    output += `\n[test] electron-builder still running after ${timeoutMs} ms: killed\n`;
    if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  }, timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

// The packaged app carries keytar's native addon; where keytar did not build (an optional dependency:
// no libsecret), there is nothing to package and check.
const KEYTAR_ADDON = join(ROOT, 'node_modules/keytar/build/Release/keytar.node');
const noKeytar = requirement(
  'desktop packaging tests',
  existsSync(KEYTAR_ADDON)
    ? null
    : `${KEYTAR_ADDON} not built (apt-get install libsecret-1-dev, npm rebuild keytar)`,
);
const skipPackaging = process.platform !== 'linux' || noKeytar !== null;

describe.skipIf(skipPackaging)('electron-builder --linux dir (offline, stub Electron)', () => {
  let unpacked: string;
  let listing: string[];
  let builderOutput = '';

  beforeAll(async () => {
    // The app directory electron-builder packs: the repo's package.json, the fresh build, the icons,
    // and the real node_modules (linked) so its dependency walk sees what `npm ci` installed.
    for (const file of ['package.json']) await copyFile(join(ROOT, file), join(app, file));
    await cp(join(ROOT, 'assets'), join(app, 'assets'), { recursive: true });
    await cp(join(ROOT, 'build'), join(app, 'build'), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
    // electronDist: a directory that stands in for the unzipped Electron build (no download).
    const stub = join(work, 'electron-stub');
    await mkdir(stub, { recursive: true });
    // It carries a fuse wire as Electron's binary does (sentinel, version 1, 8 fuses at Electron's
    // defaults), so electron-builder flips real fuses offline and the test reads what it wrote.
    await writeFile(
      join(stub, 'electron'),
      `#!/bin/sh\necho "stub electron: packaging test only" >&2\nexit 1\n# ${FUSE_SENTINEL}\x01\x08${ELECTRON_DEFAULT_FUSES}\n`,
      'latin1',
    );
    await chmod(join(stub, 'electron'), 0o755);
    const out = join(work, 'release');
    const { code, output } = await electronBuilder(
      [
        '--linux',
        'dir',
        '--projectDir',
        app,
        '--config',
        join(ROOT, 'electron-builder.yml'),
        `-c.electronDist=${stub}`,
        `-c.directories.output=${out}`,
        '--publish',
        'never',
      ],
      150_000,
    );
    builderOutput = output;
    if (code !== 0) throw new Error(`electron-builder exited with ${code}:\n${output}`);
    unpacked = join(out, 'linux-unpacked');
    listing = asar
      .listPackage(join(unpacked, 'resources/app.asar'), { isPack: false })
      .map((p) => p.replaceAll('\\', '/').replace(/^\//, ''));
  }, 180_000);

  it('puts the bundles, the three windows and the icons in app.asar', () => {
    expect(listing, builderOutput).toEqual(expect.arrayContaining(EXPECTED_IN_ASAR));
  });

  it('leaves no source maps, sources or bundled dependencies in app.asar', () => {
    expect(listing.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(listing.filter((p) => p.endsWith('.ts'))).toEqual([]);
    const packages = new Set(
      listing.filter((p) => p.startsWith('node_modules/')).map((p) => p.split('/').slice(0, 2).join('/')),
    );
    expect([...packages]).toEqual(['node_modules/keytar']);
  });

  it("unpacks keytar's native addon next to the archive", async () => {
    const addon = join(unpacked, 'resources/app.asar.unpacked/node_modules/keytar/build/Release/keytar.node');
    expect((await stat(addon)).size).toBeGreaterThan(0);
    expect(await readFile(addon)).toEqual(
      await readFile(join(ROOT, 'node_modules/keytar/build/Release/keytar.node')),
    );
    await stat(join(unpacked, 'resources/app.asar.unpacked/node_modules/keytar/lib/keytar.js'));
  });

  it('flips the fuses electron-builder.yml sets in the packaged executable', async () => {
    const actual = await packagedFuses(join(unpacked, 'tocsin'));
    expect(actual).toEqual(configuredFuses());
    expect(actual).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('renames the Electron executable and keeps main consistent with the build', async () => {
    expect((await stat(join(unpacked, 'tocsin'))).isFile()).toBe(true);
    const packed = JSON.parse(
      (require('@electron/asar') as { extractFile(a: string, f: string): Buffer })
        .extractFile(join(unpacked, 'resources/app.asar'), 'package.json')
        .toString('utf8'),
    ) as { main: string; type: string };
    expect(packed.main).toBe('dist/main/index.js');
    expect(packed.type).toBe('module');
  });
});
