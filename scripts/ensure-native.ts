// postinstall: make sure native addons load in the Node that runs Tocsin (see scripts/with-node24.sh).
// When `npm ci` ran under an older system Node, its install scripts built them for that Node's ABI
// (NODE_MODULE_VERSION mismatch at load); rebuild those against the current Node's headers.
// Both addons are optional dependencies: where one is absent or does not build, this script says so
// and exits 0, because everything but the OS keychain works without them.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const NATIVE = ['keytar', 'usocket'];
const KEYTAR_HELP =
  'Tocsin works without it: the server never uses it; `tocsin` reads the token from TOCSIN_TOKEN instead of the ' +
  "keychain; the desktop app uses Electron's safeStorage where the OS encrypts it. To use the OS keychain, install " +
  'its build prerequisites (Debian/Ubuntu: libsecret-1-dev python3 make g++; Fedora: libsecret-devel python3 make ' +
  'gcc-c++; macOS: xcode-select --install; Windows: Visual Studio Build Tools), then run `npm rebuild keytar`.';

function loads(name: string): boolean {
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(name)})`], { encoding: 'utf8' });
  return probe.status === 0;
}

for (const name of NATIVE) {
  try {
    require.resolve(name);
  } catch {
    // Not installed: npm drops an optional dependency whose build failed.
    if (name === 'keytar')
      console.error(`ensure-native: keytar (the OS keychain module) is not installed. ${KEYTAR_HELP}`);
    continue;
  }
  if (loads(name)) continue;
  console.error(`ensure-native: ${name} does not load in Node ${process.version}; rebuilding it from source`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  spawnSync(npm, ['rebuild', name], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (!loads(name)) {
    console.error(
      name === 'keytar'
        ? `ensure-native: keytar still does not load. ${KEYTAR_HELP}`
        : `ensure-native: ${name} still does not load; Tocsin does not need it (D-Bus goes through plain sockets).`,
    );
  }
}
