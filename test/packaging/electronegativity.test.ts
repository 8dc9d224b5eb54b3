// Static security scan of the Electron code (main/, renderer/) with @doyensec/electronegativity.
// Fails on any HIGH finding and on any file the scanner could not parse (an unparsed file is an
// unscanned file). A canary scan of a deliberately insecure window proves the scanner really runs.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNER = fileURLToPath(new URL('./electronegativity-scan.ts', import.meta.url));
const SCANNED = ['main', 'renderer'] as const;

interface Finding {
  id: string;
  file: string;
  line: number;
  column: number;
  severity: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH';
  confidence: string;
  manualReview: boolean;
  description: string;
  url: string;
}
interface Scan {
  globalChecks: number;
  atomicChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Finding[];
}

async function electronVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function scan(dir: string): Promise<Scan> {
  const { stdout } = await promisify(execFile)(process.execPath, [SCANNER, dir, await electronVersion()], {
    cwd: ROOT,
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Scan;
}

const describeFinding = (f: Finding, base: string) =>
  `${f.severity}/${f.confidence} ${f.id} ${f.file.replace(base, '')}:${f.line}:${f.column} ${f.url}`;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tocsin-electronegativity-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('electronegativity', () => {
  it('finds the HIGH issues of a deliberately insecure window (the scanner is live)', async () => {
    const dir = join(work, 'canary');
    await mkdir(join(dir, 'main'), { recursive: true });
    await writeFile(
      join(dir, 'main/index.ts'),
      [
        "import { app, BrowserWindow } from 'electron';",
        'app.whenReady().then(() => {',
        '  const w = new BrowserWindow({ webPreferences: { contextIsolation: false, sandbox: false } });',
        "  void w.loadURL('http://example.com');",
        '});',
        '',
      ].join('\n'),
    );
    const result = await scan(dir);
    const high = result.issues.filter((i) => i.severity === 'HIGH').map((i) => i.id);
    expect(high).toContain('CONTEXT_ISOLATION_JS_CHECK');
  }, 90_000);

  it('reports no HIGH finding and parses every file of main/ and renderer/', async () => {
    // One input directory holding both, so the global checks (CSP, navigation limits) see the
    // windows' HTML and the main process together.
    const dir = join(work, 'app');
    for (const part of SCANNED) await cp(join(ROOT, part), join(dir, part), { recursive: true });
    const result = await scan(dir);
    const base = `${dir}/`;
    for (const f of result.issues) console.log(`electronegativity: ${describeFinding(f, base)}`);
    expect(result.atomicChecks).toBeGreaterThan(0);
    expect(
      result.errors.filter((e) => !e.tolerable).map((e) => `${e.file.replace(base, '')}: ${e.message}`),
    ).toEqual([]);
    expect(result.issues.filter((i) => i.severity === 'HIGH').map((f) => describeFinding(f, base))).toEqual(
      [],
    );
  }, 90_000);
});
