// postinstall: make sure native addons load in the Node that runs Tocsin (see scripts/with-node24.sh).
// When `npm ci` ran under an older system Node, its install scripts built them for that Node's ABI
// (NODE_MODULE_VERSION mismatch at load); rebuild those against the current Node's headers.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const NATIVE = ['keytar', 'usocket'];

function loads(name: string): boolean {
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(name)})`], { encoding: 'utf8' });
  return probe.status === 0;
}

for (const name of NATIVE) {
  try {
    require.resolve(name);
  } catch {
    continue; // not installed (optional dependency)
  }
  if (loads(name)) continue;
  console.error(`ensure-native: ${name} does not load in Node ${process.version}; rebuilding it from source`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  spawnSync(npm, ['rebuild', name], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (!loads(name)) {
    console.error(
      `ensure-native: ${name} still does not load. On Debian/Ubuntu install libsecret-1-dev, python3, make and g++ ` +
        '(keytar needs them to build), then run `npm rebuild`. Tocsin runs without it, but cannot use the OS keychain.',
    );
  }
}
