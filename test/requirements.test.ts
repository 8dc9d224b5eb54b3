import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from './helpers/process.ts';

/**
 * A machine without Redis, nginx, Chromium or a Secret Service: every helper that guards those suites
 * skips with its reason printed; with CI=true every one of them fails instead.
 */

const PROBE = fileURLToPath(new URL('./helpers/requirements-probe.ts', import.meta.url));
const BARE = {
  PATH: '/nonexistent',
  TOCSIN_REDIS_SERVER: '/nonexistent/redis-server',
  TOCSIN_NGINX: '/nonexistent/nginx',
  TOCSIN_CHROMIUM: '/nonexistent/chromium',
};

async function probe(env: Record<string, string>) {
  const result = await runNode([PROBE], { env });
  expect(result.code, result.stderr).toBe(0);
  return {
    said: JSON.parse(result.stdout) as Record<string, Record<string, string | null>>,
    stderr: result.stderr,
  };
}

describe('suites that need a program the machine lacks', () => {
  it('skip with the reason printed on a developer machine', async () => {
    const { said, stderr } = await probe(BARE);
    expect(said.redis?.skip).toMatch(/redis-server not found at \/nonexistent\/redis-server/);
    expect(said.nginx?.skip).toMatch(/nginx not found/);
    expect(said.chromium?.skip).toMatch(/Chromium not found/);
    expect(said.dbus?.skip).toMatch(/dbus-daemon, gnome-keyring-daemon not found on PATH/);
    for (const suite of ['Redis tests', 'proxy tests', 'browser tests', 'keychain tests'])
      expect(stderr).toContain(`SKIPPED ${suite}: `);
  });

  it('fail in CI, where every one of them is installed', async () => {
    const { said, stderr } = await probe({ ...BARE, CI: 'true' });
    for (const name of ['redis', 'nginx', 'chromium', 'dbus'])
      expect(said[name]?.error, name).toMatch(/^CI=true, so the .* must run, but: .* not found/);
    expect(stderr).not.toContain('SKIPPED');
  });
});
