/**
 * The one rule for suites that need a program this machine may lack (Redis, nginx, Chromium, D-Bus,
 * gnome-keyring): on a developer's machine they skip, with the reason printed; in CI (CI=true) a
 * missing program fails the run, because .ci/run installs every one of them and a skip there would
 * hide a broken pipeline. Returns the reason to skip, or null when the suite can run.
 */
export function requirement(
  suite: string,
  reason: string | null,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | null {
  if (reason === null) return null;
  if (env.CI === 'true') throw new Error(`CI=true, so the ${suite} must run, but: ${reason}`);
  console.warn(`SKIPPED ${suite}: ${reason}`);
  return reason;
}
