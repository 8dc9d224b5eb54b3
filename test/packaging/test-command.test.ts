// `npm test -- FILE` as CONTRIBUTING.md documents it, run with the machine's own Node first on PATH
// (here an older one: the scripts must provide Node 24 themselves). It runs exactly that file, with
// no type-check first, and prints the summary line.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The PATH a contributor has: without the Node 24 that scripts/with-node24.sh put in front of ours.
const PATH = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => !dir.includes('tocsin-node'))
  .join(delimiter);
const systemNode = spawnSync('node', ['--version'], { env: { PATH }, encoding: 'utf8' });
const skip = systemNode.status === 0 ? null : 'no node on the PATH without scripts/with-node24.sh';
if (skip !== null) console.warn(`SKIPPED npm test -- FILE: ${skip}`);

describe.skipIf(skip !== null)(`npm test -- FILE with the system Node (${systemNode.stdout?.trim()})`, () => {
  it('runs just that file through Vitest on Node >= 22.12', { timeout: 120_000 }, async () => {
    const env: NodeJS.ProcessEnv = { PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' };
    for (const key of ['TOCSIN_NODE_CACHE', 'XDG_CACHE_HOME'])
      if (process.env[key]) env[key] = process.env[key];
    const child = spawn('npm', ['test', '--', 'test/server/sse.test.ts'], { cwd: ROOT, env });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      output += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      output += c;
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    output = stripVTControlCharacters(output);
    expect(code, output).toBe(0);
    expect(output).toMatch(/test\/server\/sse\.test\.ts/);
    expect(output).toMatch(/^Tests: [1-9]\d* passed, 0 failed, 0 skipped$/m);
    expect(output).toMatch(/Test Files\s+1 passed \(1\)/);
  });
});
