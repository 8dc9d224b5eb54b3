// Builds everything the Electron app loads, into dist/:
//   dist/main/index.js      the main process (ESM; electron, keytar and node builtins stay external)
//   dist/main/preload.cjs   the preload: ONE CommonJS file, because sandboxed preloads cannot load
//                           other files and their `require` only knows `electron` (+ a few polyfills)
//   dist/server/embedded.js the self-hosted server for utilityProcess.fork: fastify & co. bundled in,
//                           so the packaged app ships no server dependencies in node_modules
//   dist/renderer/*.html    the windows (Vite, renderer/vite.config.ts)
// Usage: node scripts/build-desktop.ts [--skip-renderer] [--start | --dist [electron-builder args]]
//   --start: then launch the app with Electron (`npm start`), or explain why Electron is missing.
//   --dist:  then package it with electron-builder for this OS (`npm run dist`), signed ad hoc on
//            macOS unless a signing certificate is configured.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type InputOptions, type OutputOptions, rolldown } from 'rolldown';
import { build as viteBuild } from 'vite';
import { icoFromPngs } from '../client/desktop/ico.ts';
import { ensureElectron, INSTALL_HINT } from './electron-binary.ts';
import { TRAY_STATES } from './make-icons.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const NODE_BUILTINS: readonly string[] = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export interface BundleSpec {
  readonly name: string;
  /** Relative to the repository root. */
  readonly input: string;
  /** Relative to the output directory (dist/ by default). */
  readonly output: string;
  readonly format: 'esm' | 'cjs';
  readonly platform: 'node' | 'browser';
  /** The only modules the bundle may import at run time (everything else is bundled in). */
  readonly external: readonly string[];
}

/** The three JS bundles of the app; test/packaging checks each against its `external` list. */
export const BUNDLES: readonly BundleSpec[] = [
  {
    name: 'main',
    input: 'main/index.ts',
    output: 'main/index.js',
    format: 'esm',
    platform: 'node',
    // x11: dbus-next's lookup of a session bus from the X selection, reached only when no bus address
    // is given; the tray-host check always passes one, so it stays an unresolved, never-called require.
    external: ['electron', 'keytar', 'x11', ...NODE_BUILTINS],
  },
  {
    name: 'preload',
    input: 'main/preload.ts',
    output: 'main/preload.cjs',
    format: 'cjs',
    // 'browser': a node builtin imported by mistake fails the build instead of failing in the sandbox.
    platform: 'browser',
    external: ['electron'],
  },
  {
    name: 'server',
    input: 'server/embedded.ts',
    output: 'server/embedded.js',
    format: 'esm',
    platform: 'node',
    // ws (ntfy's WebSocket endpoint) tries these native speed-ups inside try/catch and falls back to
    // JavaScript without them: left out of the bundle, never shipped.
    external: [...NODE_BUILTINS, 'bufferutil', 'utf-8-validate'],
  },
];

function isExternal(spec: BundleSpec, id: string): boolean {
  return spec.external.includes(id) || (spec.name !== 'preload' && id.startsWith('node:'));
}

async function bundle(spec: BundleSpec, outDir: string): Promise<void> {
  const input: InputOptions = {
    input: `${ROOT}${spec.input}`,
    platform: spec.platform,
    external: (id) => isExternal(spec, id),
    logLevel: 'warn',
    onLog(level, log, handler) {
      // eval/direct-eval and circular-dependency notes from dependencies are not ours to fix.
      if (log.code === 'EVAL' || log.code === 'CIRCULAR_DEPENDENCY') return;
      handler(level, log);
    },
  };
  const output: OutputOptions = {
    file: join(outDir, spec.output),
    format: spec.format,
    sourcemap: true,
    // One file per bundle: the preload cannot load chunks, and a single file per process keeps
    // the asar layout obvious.
    codeSplitting: false,
  };
  const build = await rolldown(input);
  try {
    await build.write(output);
  } finally {
    await build.close();
  }
}

/** dist/main/icons/tray-<state>.ico: the 16 and 32 px tray images in one file, for Windows. */
async function writeTrayIcos(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const state of TRAY_STATES) {
    const pngs = await Promise.all(
      [`tray-${state}.png`, `tray-${state}@2x.png`].map((f) => readFile(join(ROOT, 'assets/icons', f))),
    );
    await writeFile(join(dir, `tray-${state}.ico`), icoFromPngs(pngs));
  }
}

export interface BuildOptions {
  /** Where dist/ goes; tests build into a temporary directory so they never race other tests. */
  readonly outDir?: string;
  readonly renderer?: boolean;
}

export async function buildDesktop(options: BuildOptions = {}): Promise<{ outDir: string }> {
  const outDir = options.outDir ?? join(ROOT, 'dist');
  await rm(join(outDir, 'main'), { recursive: true, force: true });
  await rm(join(outDir, 'server'), { recursive: true, force: true });
  for (const spec of BUNDLES) await bundle(spec, outDir);
  await writeTrayIcos(join(outDir, 'main/icons'));
  if (options.renderer !== false) {
    await viteBuild({
      configFile: join(ROOT, 'renderer/vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: join(outDir, 'renderer'), emptyOutDir: true },
    });
  }
  return { outDir };
}

/**
 * electron-builder's signing arguments for a build on `platform`. macOS delivers no notifications
 * for an unsigned app and Gatekeeper reports it "damaged", so a local build with no certificate
 * (CSC_LINK / CSC_NAME, the release job's secrets) is signed ad hoc. Elsewhere: nothing to add.
 */
export function macSigningArgs(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  if (platform !== 'darwin') return [];
  const certificate = (env.CSC_LINK ?? '') !== '' || (env.CSC_NAME ?? '') !== '';
  if (certificate) return [];
  // Ad hoc: no Team ID, so no notarization either (it would fail without a Developer ID).
  return ['-c.mac.identity=-', '-c.mac.notarize=false'];
}

/** Runs electron-builder for this OS with the signing arguments, mirroring its exit. */
function runElectronBuilder(extra: readonly string[]): void {
  const cli = join(ROOT, 'node_modules/electron-builder/cli.js');
  const args = [cli, '--publish', 'never', ...macSigningArgs(process.platform, process.env), ...extra];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}

/** Runs `electron .` from the repository root and mirrors its exit; never triggers a download. */
function startElectron(path: string): void {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  const separator = process.argv.indexOf('--');
  const extra = separator === -1 ? [] : process.argv.slice(separator + 1);
  const child = spawn(path, ['.', ...extra], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`npm start: could not run Electron at ${path}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const start = process.argv.includes('--start');
  // Before building: fetch Electron's binary if it is missing (electron 45 no longer installs it with
  // npm ci), and fail early where that is impossible: a missing binary is what a build cannot fix.
  const electron = start ? await ensureElectron() : undefined;
  if (electron !== undefined && !electron.available) {
    console.error(`npm start: cannot launch the desktop app. ${electron.reason}\n${INSTALL_HINT}`);
    console.error(
      'Without Electron, `npm run server` runs the server and `npm run tocsin -- listen` the terminal client.',
    );
    process.exit(1);
  }
  const started = Date.now();
  const { outDir } = await buildDesktop({ renderer: !process.argv.includes('--skip-renderer') });
  console.log(`build:desktop: ${outDir} ready in ${Date.now() - started} ms`);
  if (electron?.available === true) startElectron(electron.path);
  if (process.argv.includes('--dist')) {
    const separator = process.argv.indexOf('--');
    runElectronBuilder(separator === -1 ? [] : process.argv.slice(separator + 1));
  }
}
