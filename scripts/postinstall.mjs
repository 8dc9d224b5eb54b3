// npm's postinstall, on every OS and whatever Node npm itself runs on (so plain JavaScript): runs
// scripts/ensure-native.ts with a Node that can run TypeScript (>= 22.12). Where the system's Node is
// older, scripts/with-node24.sh provides one (POSIX shells; on Windows, install Node 24). It never
// fails the install: the native addons are optional, and everything but the OS keychain works
// without them.
import { spawnSync } from 'node:child_process';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const modern = major > 22 || (major === 22 && minor >= 12);
let result;
if (modern) {
  const flags = process.features.typescript
    ? []
    : ['--experimental-strip-types', '--no-warnings=ExperimentalWarning'];
  result = spawnSync(process.execPath, [...flags, 'scripts/ensure-native.ts'], { stdio: 'inherit' });
} else if (process.platform !== 'win32') {
  result = spawnSync('bash', ['scripts/with-node24.sh', 'node', 'scripts/ensure-native.ts'], {
    stdio: 'inherit',
  });
} else {
  console.error(
    `postinstall: Node ${process.version} is older than 22.12, which Tocsin needs; install Node 24 LTS (winget install OpenJS.NodeJS.LTS), then run npm rebuild`,
  );
  process.exit(0);
}
if (result.status !== 0) {
  console.error(
    'postinstall: checking the native addons did not finish (see above); Tocsin works without them except for the OS keychain',
  );
}
process.exit(0);
