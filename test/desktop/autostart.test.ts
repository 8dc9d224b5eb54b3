// Start at login: --hidden reaches every OS's login start, and the XDG autostart entry quotes real
// install paths (spaces, %, $, quotes, backslashes, brackets, non-ASCII) the way the spec says.
import { describe, expect, it } from 'vitest';
import {
  autostartEntry,
  HIDDEN_ARG,
  loginItemSettings,
  quoteExecArg,
  startedAtLogin,
} from '../../client/desktop/autostart.ts';

/** The desktop entry spec's unquoting, as a desktop would apply it: string unescape, then quoting. */
function parseExecArg(value: string): string {
  const unescaped = value.replace(/\\\\/g, '\\').replace(/%%/g, '%');
  expect(unescaped.startsWith('"') && unescaped.endsWith('"')).toBe(true);
  return unescaped.slice(1, -1).replace(/\\(["`$\\])/g, '$1');
}

describe('start at login', () => {
  it('passes --hidden on Windows and knows a login start on every OS', () => {
    expect(loginItemSettings(true)).toEqual({ openAtLogin: true, args: [HIDDEN_ARG] });
    expect(loginItemSettings(false).openAtLogin).toBe(false);
    expect(startedAtLogin({ argv: ['C:\\PROGRA~1\\Tocsin\\Tocsin.exe', '--hidden'] })).toBe(true);
    expect(
      startedAtLogin({ argv: ['/Applications/Tocsin.app/Contents/MacOS/Tocsin'], wasOpenedAtLogin: true }),
    ).toBe(true);
    expect(startedAtLogin({ argv: ['/opt/Tocsin/tocsin'] })).toBe(false);
  });

  it('quotes install paths for the Exec key so they round-trip', () => {
    for (const path of [
      '/opt/Tocsin/tocsin',
      '/home/zoë/Applications/Tocsin [beta] 100%/tocsin',
      '/home/a "quoted" $HOME `cmd` dir/tocsin',
      '/mnt/c/back\\slash/tocsin',
      '/tmp/.mount_Tocsin~1/tocsin',
    ]) {
      const quoted = quoteExecArg(path);
      expect(quoted).not.toMatch(/(^|[^%])%[^%]/); // no single % left: it would be a field code
      expect(parseExecArg(quoted)).toBe(path);
    }
  });

  it('writes an autostart entry that starts hidden', () => {
    const entry = autostartEntry('/opt/Tocsin 100%/tocsin');
    expect(entry.split('\n')).toContain('Exec="/opt/Tocsin 100%%/tocsin" --hidden');
    expect(entry).toMatch(/^\[Desktop Entry\]\nType=Application\n/);
  });
});
