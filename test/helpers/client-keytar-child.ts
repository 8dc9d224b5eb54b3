// Runs credential-store operations in a fresh process, so keytar (libsecret) connects to the session
// bus named by this process's DBUS_SESSION_BUS_ADDRESS. Usage: node client-keytar-child.ts '<ops JSON>'
// Prints one JSON array: per op, {ok: result} or {error: {name, code, message}}.
import { createRequire } from 'node:module';
import { KEYCHAIN_SERVICE, KeytarCredentialStore } from '../../client/credentials.ts';

type Op = ['set', string, string] | ['get', string] | ['delete', string] | ['find'];

const ops = JSON.parse(process.argv[2] ?? '[]') as Op[];
const store = new KeytarCredentialStore({ timeoutMs: 8_000 });
const results: unknown[] = [];
for (const op of ops) {
  try {
    switch (op[0]) {
      case 'set':
        results.push({ ok: (await store.set(op[1], op[2])) ?? null });
        break;
      case 'get':
        results.push({ ok: await store.get(op[1]) });
        break;
      case 'delete':
        results.push({ ok: await store.delete(op[1]) });
        break;
      case 'find': {
        // Straight to keytar: proves the service name and account the store used.
        const keytar = createRequire(import.meta.url)('keytar') as {
          findCredentials(service: string): Promise<{ account: string; password: string }[]>;
        };
        results.push({ ok: await keytar.findCredentials(KEYCHAIN_SERVICE) });
        break;
      }
    }
  } catch (error) {
    const e = error as Error & { code?: string };
    results.push({ error: { name: e.name, code: e.code, message: e.message } });
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
