// Replacing the settings and cursor files on Windows, where another process (antivirus, indexer)
// briefly holding the target makes rename fail with EPERM/EACCES/EBUSY: retried, then real errors.
// The Windows error cannot be produced on this machine, so the rename that fails is injected; the
// files themselves are real.
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renameRetrying } from '../../client/atomic-file.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const errno = (code: string) =>
  Object.assign(new Error(`${code}: operation not permitted, rename`), { code });

describe('renameRetrying', () => {
  it('retries while Windows holds the target, then replaces it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-rename-Zoë [x] 100%-'));
    dirs.push(dir);
    await writeFile(join(dir, 'desktop.json'), 'old');
    await writeFile(join(dir, 'desktop.json.tmp'), 'new');
    const failures = ['EPERM', 'EBUSY', 'EACCES'];
    let calls = 0;
    await renameRetrying(
      join(dir, 'desktop.json.tmp'),
      join(dir, 'desktop.json'),
      async (from, to) => {
        calls++;
        const code = failures.shift();
        if (code !== undefined) throw errno(code);
        await rename(from, to);
      },
      [1, 1, 1, 1],
    );
    expect(calls).toBe(4);
    expect(await readFile(join(dir, 'desktop.json'), 'utf8')).toBe('new');
  });

  it('gives up after the last delay, and never retries other errors', async () => {
    let calls = 0;
    const always = (code: string) => async () => {
      calls++;
      throw errno(code);
    };
    await expect(renameRetrying('a', 'b', always('EPERM'), [1, 1])).rejects.toMatchObject({ code: 'EPERM' });
    expect(calls).toBe(3);
    calls = 0;
    await expect(renameRetrying('a', 'b', always('ENOSPC'), [1, 1])).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    expect(calls).toBe(1);
  });
});
