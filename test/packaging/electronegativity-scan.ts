// Runs @doyensec/electronegativity over one directory and prints its findings as JSON on stdout.
// Usage: node test/packaging/electronegativity-scan.ts <dir> <electron-version>
//
// Run as its own process because electronegativity needs two workarounds that must not leak into
// the test runner:
// - npm hoists @typescript-eslint/typescript-estree@4 to the top level, where `require('typescript')`
//   finds this project's TypeScript 7 (no JS compiler API) and throws at load. A resolve hook sends
//   that one require to the TypeScript 4.2 electronegativity ships in its own node_modules.
// - AvailableSecurityFixesGlobalCheck downloads Electron's release list from GitHub: its result would
//   depend on the network and the date, so it is excluded (electron's version is pinned in package.json).
// After printing, the process exits at once: electronegativity's translation download can reject after
// the scan is done (a got/p-cancelable bug that throws from a timer).
import { createRequire, registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const electronegativityDir = dirname(require.resolve('@doyensec/electronegativity/package.json'));
const typescript4 = pathToFileURL(
  join(electronegativityDir, 'node_modules/typescript/lib/typescript.js'),
).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'typescript' && context.parentURL?.includes('/@typescript-eslint/') === true) {
      return { url: typescript4, format: 'commonjs', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
});

interface Level {
  readonly name: string;
  readonly value: number;
}
interface RawIssue {
  readonly id: string;
  readonly file: string;
  readonly location: { readonly line: number; readonly column: number };
  readonly severity: Level;
  readonly confidence: Level;
  readonly manualReview: boolean;
  readonly description: string;
  readonly shortenedURL: string;
}
interface RawResult {
  readonly globalChecks: number;
  readonly atomicChecks: number;
  readonly errors: { file: string; message: string; tolerable: boolean }[];
  readonly issues: RawIssue[];
}
type Run = (options: Record<string, unknown>) => Promise<RawResult>;

const [input, electronVersion] = process.argv.slice(2);
if (input === undefined || electronVersion === undefined) {
  console.error('usage: electronegativity-scan.ts <dir> <electron-version>');
  process.exit(2);
}

// electronegativity logs progress and translation warnings with console.log: keep stdout for JSON.
const log = console.log;
console.log = (...args: unknown[]) => console.error(...args);
const run = require('@doyensec/electronegativity') as Run;
const result = await run({
  input,
  electronVersionOverride: electronVersion,
  excludeFromScan: ['availablesecurityfixesglobalcheck'],
  parserPlugins: [],
});
log(
  JSON.stringify({
    globalChecks: result.globalChecks,
    atomicChecks: result.atomicChecks,
    errors: result.errors,
    issues: result.issues.map((i) => ({
      id: i.id,
      file: i.file,
      line: i.location.line,
      column: i.location.column,
      severity: i.severity.name,
      confidence: i.confidence.name,
      manualReview: i.manualReview,
      description: i.description,
      url: i.shortenedURL,
    })),
  }),
);
process.exit(0);
