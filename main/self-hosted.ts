import { utilityProcess } from 'electron';
import type { LaunchServer } from '../client/desktop/self-hosted.ts';
import type { EmbeddedMessage } from '../protocol/index.ts';

/** Runs the bundled server (dist/server/embedded.js) in an Electron utilityProcess. */
export function utilityServerLauncher(entry: string): LaunchServer {
  return (start) => {
    const child = utilityProcess.fork(entry, [JSON.stringify(start)], {
      serviceName: 'Tocsin server',
      stdio: 'inherit',
    });
    return {
      post: (message) => child.postMessage(message),
      onMessage: (listener) =>
        child.on('message', (message: unknown) => listener(message as EmbeddedMessage)),
      onExit: (listener) => child.on('exit', (code: number) => listener(code)),
      kill: () => {
        child.kill();
      },
    };
  };
}
