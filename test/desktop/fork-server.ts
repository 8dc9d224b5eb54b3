import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LaunchServer, ServerChild } from '../../client/desktop/self-hosted.ts';
import type { EmbeddedMessage } from '../../protocol/index.ts';

const ENTRY = fileURLToPath(new URL('../../server/embedded.ts', import.meta.url));

/** The Node stand-in for Electron's utilityProcess.fork: same entry, same messages. */
export function forkServer(children: ServerChild[] = []): LaunchServer {
  return (start) => {
    const child = fork(ENTRY, [JSON.stringify(start)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr?.resume();
    const handle: ServerChild & { pid: number | undefined; sigkill(): void } = {
      pid: child.pid,
      post: (message) => {
        if (child.connected) child.send(message);
      },
      onMessage: (listener) => child.on('message', (m) => listener(m as EmbeddedMessage)),
      onExit: (listener) => child.on('exit', (code) => listener(code)),
      kill: () => child.kill('SIGTERM'),
      sigkill: () => child.kill('SIGKILL'),
    };
    children.push(handle);
    return handle;
  };
}
