import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Explicit include: never pick up compiled copies under dist/ or packaged output.
    include: ['test/**/*.test.ts', 'protocol/**/*.test.ts', 'server/**/*.test.ts', 'client/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'release/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
