/**
 * Quitting the app, whatever asked (the tray, Cmd+Q, a window's Quit, logout, SIGTERM): the agent
 * and the bundled server are stopped first, once, and a stop that hangs never keeps the app alive.
 */
export class QuitGate {
  readonly #stop: () => Promise<void>;
  readonly #exit: () => void;
  readonly #timeoutMs: number;
  #state: 'running' | 'stopping' | 'done' = 'running';

  constructor(deps: { stop: () => Promise<void>; exit: () => void; timeoutMs?: number }) {
    this.#stop = deps.stop;
    this.#exit = deps.exit;
    this.#timeoutMs = deps.timeoutMs ?? 5_000;
  }

  /**
   * Called from every quit path (Electron's before-quit included). Returns true when the caller must
   * hold the quit (preventDefault): the app exits by itself once everything is stopped.
   */
  request(): boolean {
    if (this.#state === 'done') return false;
    if (this.#state === 'stopping') return true;
    this.#state = 'stopping';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs);
    });
    void Promise.race([this.#stop().catch(() => {}), timeout]).then(() => {
      clearTimeout(timer);
      this.#state = 'done';
      this.#exit();
    });
    return true;
  }

  get stopping(): boolean {
    return this.#state !== 'running';
  }
}
