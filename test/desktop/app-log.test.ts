// The packaged app's rotating log: real files in a folder whose name has spaces, brackets, % and
// non-ASCII (as user profiles do), rotated by size, control characters stripped.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_FILE, openAppLog } from '../../client/desktop/app-log.ts';
import { ManualClock } from '../helpers/client-clock.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('app log', () => {
  it('writes timestamped single lines without control characters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin log [Zoë] 100% '));
    dirs.push(dir);
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 5, 0, 0));
    const echoed: string[] = [];
    const log = openAppLog({ dir: join(dir, 'logs'), clock, echo: (l) => echoed.push(l) });
    log('notification failed: title "\u001b]0;owned\u0007 disk"\nsecond line');
    await log.close();
    const text = await readFile(join(dir, 'logs', LOG_FILE), 'utf8');
    expect(text).toBe('2026-11-30T05:00:00.000Z notification failed: title "]0;owned disk" | second line\n');
    expect(echoed).toEqual([text.trimEnd()]);
  });

  it('rotates by size and keeps a bounded number of files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-log-'));
    dirs.push(dir);
    const log = openAppLog({ dir, size: '1K', keep: 2 });
    for (let i = 0; i < 200; i++) {
      log(`line ${i} ${'x'.repeat(40)}`);
      // Let the stream notice the size between writes.
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await log.close();
    const files = (await readdir(dir)).sort();
    expect(files).toEqual([LOG_FILE, `${LOG_FILE}.1`, `${LOG_FILE}.2`]);
    const newest = await readFile(join(dir, LOG_FILE), 'utf8');
    expect(newest).toContain('line 199 ');
  });

  it('never throws when the folder cannot be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-log-'));
    dirs.push(dir);
    // A regular file where the folder should be: mkdir fails with ENOTDIR.
    await writeFile(join(dir, 'logs'), 'not a folder');
    const log = openAppLog({ dir: join(dir, 'logs', 'tocsin') });
    expect(() => log('still fine')).not.toThrow();
    await log.close();
  });
});
