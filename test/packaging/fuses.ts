// Electron's fuses as electron-builder.yml sets them, and as a packaged binary carries them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const fuses = require('@electron/fuses') as typeof import('@electron/fuses');

/** electron-builder.yml's electronFuses key → the fuse's index in the wire (@electron/fuses). */
const WIRE_INDEX: Record<string, number> = {
  runAsNode: fuses.FuseV1Options.RunAsNode,
  enableCookieEncryption: fuses.FuseV1Options.EnableCookieEncryption,
  enableNodeOptionsEnvironmentVariable: fuses.FuseV1Options.EnableNodeOptionsEnvironmentVariable,
  enableNodeCliInspectArguments: fuses.FuseV1Options.EnableNodeCliInspectArguments,
  enableEmbeddedAsarIntegrityValidation: fuses.FuseV1Options.EnableEmbeddedAsarIntegrityValidation,
  onlyLoadAppFromAsar: fuses.FuseV1Options.OnlyLoadAppFromAsar,
  loadBrowserProcessSpecificV8Snapshot: fuses.FuseV1Options.LoadBrowserProcessSpecificV8Snapshot,
  grantFileProtocolExtraPrivileges: fuses.FuseV1Options.GrantFileProtocolExtraPrivileges,
};

/** The fuses the shipped config sets, by config name: true on, false off. */
export function configuredFuses(): Record<string, boolean> {
  const config = yaml.load(readFileSync(`${ROOT}electron-builder.yml`, 'utf8')) as {
    electronFuses: Record<string, boolean>;
  };
  return config.electronFuses;
}

/** The same names, read from a packaged executable (or a .app). */
export async function packagedFuses(executable: string): Promise<Record<string, boolean | 'removed'>> {
  const wire = (await fuses.getCurrentFuseWire(executable)) as unknown as Record<number, number>;
  const out: Record<string, boolean | 'removed'> = {};
  for (const [name, index] of Object.entries(WIRE_INDEX)) {
    const state = wire[index];
    out[name] = state === 49 ? true : state === 48 ? false : 'removed';
  }
  return out;
}
