/** The bench's side of a forked load worker: request/response over IPC (see load/protocol.ts). */
import { type ChildProcess, fork } from 'node:child_process';
import { track } from './children.ts';

type Reply = { seq: number; ok: true; value: unknown } | { seq: number; ok: false; error: string };

export class WorkerRpc<Request> {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #seq = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.seq);
      if (pending === undefined) return;
      this.#pending.delete(reply.seq);
      if (reply.ok) pending.resolve(reply.value);
      else pending.reject(new Error(reply.error));
    });
    child.on('exit', (code, signal) => {
      for (const { reject } of this.#pending.values()) {
        reject(new Error(`load worker exited (${signal ?? code}) with requests pending`));
      }
      this.#pending.clear();
    });
  }

  /** Forks `script` with its setup as argv[2]; resolves once the worker says it is up. */
  static start<R>(script: URL, setup: unknown): Promise<WorkerRpc<R>> {
    const child = track(
      fork(script, [JSON.stringify(setup)], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const rpc = new WorkerRpc<R>(child);
    return new Promise((resolve, reject) => {
      rpc.#pending.set(0, { resolve: () => resolve(rpc), reject });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  call<T>(request: Request): Promise<T> {
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ seq, request });
    });
  }

  stop(): void {
    if (this.#child.connected) this.#child.disconnect();
  }
}
