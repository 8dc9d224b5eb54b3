// Calls every "is this program here?" helper and prints what each said, one JSON line: run by
// test/requirements.test.ts in a child whose environment names programs that do not exist.
import { chromiumUnavailable } from './chromium.ts';
import { missingInfrastructure } from './client-dbus.ts';
import { nginxUnavailable } from './nginx.ts';
import { redisUnavailable } from './redis.ts';

const checks: Record<string, () => string | null> = {
  redis: redisUnavailable,
  nginx: nginxUnavailable,
  chromium: chromiumUnavailable,
  dbus: () => missingInfrastructure(['dbus-daemon', 'gnome-keyring-daemon'], 'keychain tests'),
};
const results: Record<string, { skip: string | null } | { error: string }> = {};
for (const [name, check] of Object.entries(checks)) {
  try {
    results[name] = { skip: check() };
  } catch (error) {
    results[name] = { error: (error as Error).message };
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
