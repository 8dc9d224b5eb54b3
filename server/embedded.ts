// The bundled server for the desktop app's self-hosted mode, run in Electron's utilityProcess (or, in
// tests, a Node child process). It talks to its parent with small typed messages.
import { type EmbeddedMessage, type EmbeddedRequest, EmbeddedStart, type Scope } from '../protocol/index.ts';
import { createServer } from './app.ts';
import type { TokenStore } from './store/store.ts';
import { mintToken } from './tokens.ts';

interface ParentPort {
  /** Resolves once the message is on its way (a process exiting right after must not drop it). */
  post(message: EmbeddedMessage): Promise<void>;
  onMessage(listener: (message: unknown) => void): void;
}

function parentPort(): ParentPort {
  // Electron's utilityProcess exposes process.parentPort; Node's fork() gives process.send.
  const electronPort = (
    process as unknown as {
      parentPort?: {
        postMessage(m: unknown): void;
        on(e: 'message', l: (e: { data: unknown }) => void): void;
      };
    }
  ).parentPort;
  if (electronPort !== undefined) {
    return {
      post: (m) => {
        electronPort.postMessage(m);
        // Electron sends from its own queue: give it a moment before the process may exit.
        return new Promise((resolve) => setTimeout(resolve, 100));
      },
      onMessage: (l) => electronPort.on('message', (event) => l(event.data)),
    };
  }
  return {
    post: (m) =>
      new Promise((resolve) => {
        if (process.send === undefined) resolve();
        else process.send(m, undefined, {}, () => resolve());
      }),
    onMessage: (l) => process.on('message', l),
  };
}

async function revokeAll(tokens: TokenStore, user: string, scope: Exclude<Scope, 'admin'>, now: number) {
  for (const record of await tokens.list()) {
    if (record.user === user && record.scope === scope && record.revokedAt === null)
      await tokens.revoke(record.id, now);
  }
}

async function main(): Promise<void> {
  const port = parentPort();
  const start = EmbeddedStart.safeParse(JSON.parse(process.argv[2] ?? '{}'));
  if (!start.success) {
    await port.post({ type: 'failed', code: 'invalid-config', message: start.error.message });
    process.exit(2);
  }
  const { host, dataDir, user } = start.data;
  let server: ReturnType<typeof createServer>;
  try {
    server = createServer(
      { host, port: start.data.port, dataDir, logLevel: 'warn' },
      { logStream: process.stderr },
    );
  } catch (error) {
    // E.g. data-dir-locked: another Tocsin (a second app instance, a CLI server) uses this data dir.
    const code = (error as { code?: string }).code ?? 'start-failed';
    await port.post({ type: 'failed', code, message: (error as Error).message });
    process.exit(1);
  }
  const tokens = server.context.tokens;
  const mint = async (scope: Exclude<Scope, 'admin'>) => {
    await revokeAll(tokens, user, scope, Date.now());
    return (await mintToken(tokens, { user, scope, topics: null }, Date.now())).token;
  };
  port.onMessage((raw) => {
    const message = raw as EmbeddedRequest;
    void (async () => {
      switch (message.type) {
        case 'provision':
          void port.post({
            type: 'tokens',
            subscribe: await mint('subscribe'),
            publish: await mint('publish'),
          });
          break;
        case 'regenerate-publish-token':
          void port.post({ type: 'tokens', publish: await mint('publish') });
          break;
        case 'stop':
          await server.close();
          process.exit(0);
      }
    })();
  });
  try {
    const url = await server.listen();
    void port.post({ type: 'listening', url });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'listen-failed';
    await port.post({ type: 'failed', code, message: (error as Error).message });
    process.exit(1);
  }
  const shutdown = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

await main();
