import { z } from 'zod';
import { writeFileAtomic } from '../atomic-file.ts';
import { readJsonFile } from '../json-file.ts';
import { DEFAULT_DESKTOP_SETTINGS, DesktopSettings } from './api.ts';

/** What the app remembers between runs, besides the token (which only the keychain holds). */
export const DesktopFile = z.object({
  version: z.literal(1),
  serverUrl: z.string().nullable(),
  pausedUntil: z.number().nullable(),
  settings: DesktopSettings,
});
export type DesktopFile = z.infer<typeof DesktopFile>;

const EMPTY_DESKTOP_FILE: DesktopFile = {
  version: 1,
  serverUrl: null,
  pausedUntil: null,
  settings: DEFAULT_DESKTOP_SETTINGS,
};

/** Reads the app's settings file; a missing one is a first run, a damaged one is reported and replaced. */
export async function readDesktopFile(
  path: string,
): Promise<{ file: DesktopFile; damaged: boolean; firstRun: boolean }> {
  const read = await readJsonFile(path, DesktopFile);
  if (read.kind === 'ok') return { file: read.value, damaged: false, firstRun: false };
  const firstRun = read.kind === 'missing';
  return { file: EMPTY_DESKTOP_FILE, damaged: !firstRun, firstRun };
}

export function writeDesktopFile(path: string, file: DesktopFile): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
}
