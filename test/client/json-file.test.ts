import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonFile } from '../../client/json-file.ts';

const Schema = z.object({ version: z.literal(1), id: z.string() });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-json-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the one safe JSON-file reader', () => {
  it('tells missing, ok, unreadable and invalid apart, and never throws', async () => {
    expect(await readJsonFile(join(dir, 'nope.json'), Schema)).toEqual({ kind: 'missing' });

    await writeFile(join(dir, 'ok.json'), '{"version":1,"id":"7"}');
    expect(await readJsonFile(join(dir, 'ok.json'), Schema)).toEqual({
      kind: 'ok',
      value: { version: 1, id: '7' },
    });

    await mkdir(join(dir, 'a-dir.json'));
    expect(await readJsonFile(join(dir, 'a-dir.json'), Schema)).toMatchObject({
      kind: 'unreadable',
      reason: expect.stringMatching(/EISDIR/),
    });

    await writeFile(join(dir, 'torn.json'), '{"version":1,"id":"7", tru');
    expect(await readJsonFile(join(dir, 'torn.json'), Schema)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^not JSON/),
    });

    await writeFile(join(dir, 'wrong.json'), '{"version":2,"id":7}');
    expect(await readJsonFile(join(dir, 'wrong.json'), Schema)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/version: .*; id: /),
    });
  });
});
