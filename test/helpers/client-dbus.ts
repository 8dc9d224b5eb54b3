import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Message } from 'dbus-next';
import { connectSessionBus } from '../../client/notifier-dbus.ts';
import { requirement } from './requirements.ts';

/**
 * Private D-Bus session buses and gnome-keyring daemons for tests: real services, isolated from the
 * machine's own session (no service activation, temporary data dirs), torn down after each test.
 */

export function which(tool: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Why a suite that uses the OS keychain through keytar cannot run here (printed), or null: the D-Bus
 * and gnome-keyring programs, and keytar itself, an optional dependency that is absent where its
 * native build failed (no libsecret). In CI either fails instead.
 */
export function missingKeychain(suite: string): string | null {
  const missing = ['dbus-daemon', 'gnome-keyring-daemon'].filter((tool) => which(tool) === null);
  let keytar: string | null = null;
  try {
    createRequire(import.meta.url)('keytar');
  } catch (error) {
    keytar = `keytar does not load (${(error as Error).message.split('\n')[0]}); it needs libsecret to build: apt-get install libsecret-1-dev, then npm rebuild keytar`;
  }
  const reasons = [
    ...(missing.length === 0
      ? []
      : [
          `${missing.join(', ')} not found on PATH (Debian: apt-get install dbus-daemon gnome-keyring dbus-x11)`,
        ]),
    ...(keytar === null ? [] : [keytar]),
  ];
  return requirement(suite, reasons.length === 0 ? null : reasons.join('; '));
}

/** Why `suite` cannot run here (printed), or null when it can; in CI a missing tool fails instead. */
export function missingInfrastructure(tools: readonly string[], suite = 'D-Bus tests'): string | null {
  const missing = tools.filter((tool) => which(tool) === null);
  return requirement(
    suite,
    missing.length === 0
      ? null
      : `${missing.join(', ')} not found on PATH (Debian: apt-get install dbus-daemon gnome-keyring dbus-x11; Fedora: dnf install dbus-daemon gnome-keyring)`,
  );
}

async function readLine(child: ChildProcess, what: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${stderr}`)), timeoutMs);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(buffer.slice(0, newline).trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${stderr}`));
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

export interface PrivateBus {
  readonly address: string;
  readonly dir: string;
  stop(): Promise<void>;
}

/** A session bus of our own: no service directories, so nothing is auto-activated behind our back. */
export async function startPrivateBus(): Promise<PrivateBus> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-dbus-'));
  const config = join(dir, 'session.conf');
  await writeFile(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );
  const child = spawn('dbus-daemon', [`--config-file=${config}`, '--print-address=1', '--nofork'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const address = await readLine(child, 'dbus-daemon');
  return {
    address,
    dir,
    async stop() {
      await kill(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether `name` has an owner on the bus at `address`. */
export async function nameHasOwner(address: string, name: string): Promise<boolean> {
  const bus = connectSessionBus(address);
  try {
    const reply = await bus.call(
      new Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'NameHasOwner',
        signature: 's',
        body: [name],
      }),
    );
    return reply?.body[0] === true;
  } finally {
    bus.disconnect();
  }
}

export interface Keyring {
  /** Where the daemon keeps its (encrypted) keyring files; removed on stop unless it was given. */
  readonly dataDir: string;
  stop(): Promise<void>;
}

/**
 * gnome-keyring's Secret Service on `bus`. `unlock: true` is the CI recipe
 * (`echo -n pw | gnome-keyring-daemon --unlock --components=secrets`): the login keyring is created
 * with password "pw" and unlocked. Without it the collection stays locked (nobody can answer a prompt).
 */
export async function startKeyring(
  bus: PrivateBus,
  options: { unlock: boolean; dataDir?: string },
): Promise<Keyring> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tocsin-keyring-')));
  const args = ['--foreground', '--components=secrets', `--control-directory=${join(dataDir, 'control')}`];
  if (options.unlock) args.push('--unlock');
  const child = spawn('gnome-keyring-daemon', args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dataDir,
      XDG_DATA_HOME: join(dataDir, 'data'),
      XDG_RUNTIME_DIR: dataDir,
      DBUS_SESSION_BUS_ADDRESS: bus.address,
    },
  });
  if (options.unlock) child.stdin?.end('pw');
  else child.stdin?.end();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const deadline = Date.now() + 10_000;
  while (!(await nameHasOwner(bus.address, 'org.freedesktop.secrets'))) {
    if (child.exitCode !== null)
      throw new Error(`gnome-keyring-daemon exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`gnome-keyring-daemon did not register on the bus: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    dataDir,
    async stop() {
      await kill(child);
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The environment for a child that must use `bus` as its session bus, and no display. */
export function busEnv(address: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address, ...extra };
  // No X11/Wayland: libsecret must not try to autolaunch a bus or show an unlock prompt.
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  return env;
}
