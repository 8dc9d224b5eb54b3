import { defineConfig } from 'vitest/config';

// Four projects, so a change gets fast feedback first (`npm run test:unit`, seconds) and the slow
// rooms run only when asked for or in the full `npm test`:
//   unit         in-process logic: no child process, no browser; a file belongs here only if it
//                stays fast (the whole project runs in well under 20 s)
//   integration  real servers, real processes, Redis, nginx, D-Bus (the default room for a new file)
//   browser      Chromium and Electron
//   packaging    the desktop build, the installer, `npm ci` from scratch
// Explicit includes: never pick up compiled copies under dist/ or packaged output.
const UNIT = [
  'protocol/**/*.test.ts',
  'server/**/*.test.ts',
  'client/**/*.test.ts',
  'test/protocol/**/*.test.ts',
  'test/architecture/**/*.test.ts',
  'test/client/agent-reconnect.test.ts',
  'test/client/backoff.test.ts',
  'test/client/json-file.test.ts',
  'test/client/config.test.ts',
  'test/client/cursor.test.ts',
  'test/client/dispatcher.test.ts',
  'test/client/policy.test.ts',
  'test/client/power.test.ts',
  'test/client/retry-field.test.ts',
  'test/client/watchdog.test.ts',
  'test/desktop/tray-menu.test.ts',
  'test/server/registry.test.ts',
  'test/server/sse.test.ts',
  'test/server/store-sqlite.test.ts',
];
const BROWSER = ['test/renderer/**/*.test.ts', 'test/interop/chromium-*.test.ts', 'test/e2e/**/*.test.ts'];
const PACKAGING = ['test/packaging/**/*.test.ts'];
const ALWAYS_EXCLUDED = ['**/node_modules/**', 'dist/**', 'release/**'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, exclude: ALWAYS_EXCLUDED } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...ALWAYS_EXCLUDED, ...UNIT, ...BROWSER, ...PACKAGING],
        },
      },
      { extends: true, test: { name: 'browser', include: BROWSER, exclude: ALWAYS_EXCLUDED } },
      { extends: true, test: { name: 'packaging', include: PACKAGING, exclude: ALWAYS_EXCLUDED } },
    ],
  },
});
