/**
 * Start at login, as pure decisions: the argument that marks a login start, the OS login-item
 * settings, and the XDG autostart entry. main/autostart.ts only writes what these return.
 */
export const HIDDEN_ARG = '--hidden';

/** Windows runs the login item with these args; macOS's login items take none (see startedAtLogin). */
export function loginItemSettings(enabled: boolean): { openAtLogin: boolean; args: string[] } {
  return { openAtLogin: enabled, args: [HIDDEN_ARG] };
}

/**
 * Whether this run was started at login (so it starts in the tray, no window): `--hidden` on Linux
 * and Windows, the OS's own flag on macOS, whose login items cannot pass arguments.
 */
export function startedAtLogin(input: { argv: readonly string[]; wasOpenedAtLogin?: boolean }): boolean {
  return input.argv.includes(HIDDEN_ARG) || input.wasOpenedAtLogin === true;
}

/**
 * One argument of a desktop entry's Exec key: quoted, with `"`, `` ` ``, `$` and `\` escaped by the
 * quoting rule, then every `\` doubled by the string-value rule, and `%` doubled (field codes).
 */
export function quoteExecArg(arg: string): string {
  const quoted = `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
  return quoted.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}

/** The XDG autostart entry that starts `exec` hidden at login. */
export function autostartEntry(exec: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Tocsin',
    `Exec=${quoteExecArg(exec)} ${HIDDEN_ARG}`,
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}
