// Every fenced block marked ```sh runnable in README.md and docs/*.md is run here, against a real
// tocsin-server on port 0, so the commands the documentation shows keep working. The marker and the
// substitutions are described in docs/operations.md ("Runnable examples"). A block may name the
// programs it needs (```sh runnable needs=sqlite3,curl): without them it skips with the reason
// printed, and fails under CI=true like every other infrastructure suite.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../helpers/client-dbus.ts';
import { type CodeBlock, codeBlocks, documentationPages } from '../helpers/markdown-blocks.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { requirement } from '../helpers/requirements.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const runnable = documentationPages(ROOT)
  .flatMap((page) => codeBlocks(ROOT, page))
  .filter((block) => ['sh', 'bash'].includes(block.info[0] ?? '') && block.info.includes('runnable'));

function needs(block: CodeBlock): string[] {
  const flag = block.info.find((word) => word.startsWith('needs='));
  return flag === undefined ? [] : flag.slice('needs='.length).split(',').filter(Boolean);
}

let dir: string;
let server: ServerProcess;
let paths: { data: string; backups: string; home: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-docs-'));
  paths = { data: join(dir, 'data'), backups: join(dir, 'backups'), home: join(dir, 'home') };
  await mkdir(paths.home);
  server = await spawnServer(paths.data);
});

afterAll(async () => {
  await server?.kill();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** What the documentation writes for a reader's machine, replaced by this test's server and dirs. */
function substitute(script: string): string {
  return script
    .replaceAll('http://127.0.0.1:8080', server.url)
    .replaceAll('/var/lib/tocsin', paths.data)
    .replaceAll('./tocsin-data', paths.data)
    .replaceAll('/var/backups/tocsin', paths.backups);
}

async function runBlock(script: string): Promise<{ code: number | null; output: string }> {
  const preamble = [
    'set -euo pipefail',
    // An HTTP error is a failed command, as a reader would see it.
    'curl() { command curl --fail-with-body -sS "$@"; }',
  ].join('\n');
  const child = spawn('bash', ['-c', `${preamble}\n${script}`], {
    cwd: ROOT,
    env: { ...process.env, HOME: paths.home, TOKEN: server.adminToken ?? '', ADMIN: server.adminToken ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

describe('runnable documentation', () => {
  it('has runnable blocks (the marker is found)', () => {
    expect(runnable.length).toBeGreaterThan(0);
  });

  for (const block of runnable) {
    const missing = needs(block).filter((program) => which(program) === null);
    const skip = requirement(
      `docs block ${block.file}:${block.line}`,
      missing.length === 0 ? null : `${missing.join(', ')} not found on PATH`,
    );
    it.skipIf(skip !== null)(`${block.file}:${block.line} runs`, { timeout: 120_000 }, async () => {
      const { code, output } = await runBlock(substitute(block.body));
      expect(code, `${block.file}:${block.line}\n${block.body}\n--- output ---\n${output}`).toBe(0);
    });
  }
});
