import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * "Dependencies point inward: main → client → protocol ← server", checked on every import of every
 * tracked source file, plus the two rules that keep set-up light: the server never reaches keytar
 * (it must install and run where keytar did not build), and keytar is loaded only lazily, in one place.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROOMS = ['protocol', 'server', 'client', 'main', 'renderer'] as const;
type Room = (typeof ROOMS)[number];
const MAY_IMPORT: Record<Room, readonly Room[]> = {
  protocol: [],
  server: ['protocol'],
  client: ['protocol'],
  main: ['client', 'protocol'],
  renderer: ['client', 'protocol'],
};

const files = ROOMS.flatMap((room) =>
  (readdirSync(join(ROOT, room), { recursive: true }) as string[])
    .map((path) => `${room}/${path.split(sep).join('/')}`)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('node_modules/')),
);

/** Every `import … from '…'`, `export … from '…'` and `import('…')` specifier of a file. */
function specifiers(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g))
    found.push(m[1] as string);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) found.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1] as string);
  return found;
}

const roomOf = (path: string): Room | undefined =>
  ROOMS.find((room) => path === room || path.startsWith(`${room}/`));

describe('dependency directions', () => {
  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('every relative import stays in its room or points inward', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = roomOf(file) as Room;
      for (const spec of specifiers(file)) {
        if (!spec.startsWith('.')) continue;
        const target = roomOf(normalize(join(dirname(file), spec)));
        if (target === undefined || target === from) continue;
        if (!MAY_IMPORT[from].includes(target)) wrong.push(`${file} → ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keytar is imported only by client/credentials.ts, lazily, and nothing of the server reaches it', () => {
    const importers = files.filter((file) => specifiers(file).includes('keytar'));
    expect(importers).toEqual(['client/credentials.ts']);
    const text = readFileSync(join(ROOT, 'client/credentials.ts'), 'utf8');
    expect(text).toMatch(/await import\('keytar'\)/);
    expect(text).not.toMatch(/^import[^\n]*['"]keytar['"]/m);
  });
});
