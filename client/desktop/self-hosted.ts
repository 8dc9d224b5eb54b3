import { EventEmitter } from 'node:events';
import type { EmbeddedMessage, EmbeddedRequest, EmbeddedStart } from '../../protocol/index.ts';
import { type BackoffPolicy, reconnectDelay } from '../backoff.ts';
import { type Clock, systemClock, type TimerHandle } from '../clock.ts';
import type { SelfHostedView } from './ui-state.ts';

/** A running server process, as Electron's utilityProcess or Node's fork provides it. */
export interface ServerChild {
  post(message: EmbeddedRequest): void;
  onMessage(listener: (message: EmbeddedMessage) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export type LaunchServer = (start: EmbeddedStart) => ServerChild;

export interface SelfHostedEvents {
  status: [view: SelfHostedView];
  listening: [url: string];
  tokens: [tokens: { subscribe?: string; publish?: string }];
}

const RESTART_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000, stableAfterMs: 60_000 };

/**
 * Keeps the bundled server running while self-hosted mode is on: started with the app, stopped with
 * it, restarted with backoff when it crashes (and the reason shown), never two at once.
 */
export class SelfHostedServer extends EventEmitter<SelfHostedEvents> {
  readonly #launch: LaunchServer;
  readonly #clock: Clock;
  readonly #random: () => number;
  #child: ServerChild | null = null;
  #start: EmbeddedStart | null = null;
  #restartTimer: TimerHandle | undefined;
  #attempt = 0;
  #startedAt = 0;
  #view: SelfHostedView = { enabled: false, status: 'off', url: null, detail: null };

  constructor(launch: LaunchServer, options: { clock?: Clock; random?: () => number } = {}) {
    super();
    this.#launch = launch;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  get view(): SelfHostedView {
    return this.#view;
  }

  /** Starts (or restarts with new settings). */
  start(start: EmbeddedStart): void {
    this.stop();
    this.#start = start;
    this.#attempt = 0;
    this.#spawn();
  }

  stop(): void {
    this.#start = null;
    if (this.#restartTimer !== undefined) this.#clock.clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const child = this.#child;
    this.#child = null;
    if (child !== null) {
      child.post({ type: 'stop' });
      // A server that ignores `stop` is killed shortly after.
      const timer = this.#clock.setTimeout(() => child.kill(), 3_000);
      child.onExit(() => this.#clock.clearTimeout(timer));
    }
    this.#set({ enabled: false, status: 'off', url: null, detail: null });
  }

  request(message: EmbeddedRequest): void {
    this.#child?.post(message);
  }

  #spawn(): void {
    const start = this.#start;
    if (start === null) return;
    this.#set({
      enabled: true,
      status: this.#attempt === 0 ? 'starting' : 'restarting',
      url: null,
      detail: null,
    });
    const child = this.#launch(start);
    this.#child = child;
    this.#startedAt = this.#clock.now();
    let failure: string | null = null;
    child.onMessage((message) => {
      if (this.#child !== child) return;
      switch (message.type) {
        case 'listening':
          this.#set({ enabled: true, status: 'running', url: message.url, detail: null });
          this.emit('listening', message.url);
          break;
        case 'tokens':
          this.emit('tokens', { ...message });
          break;
        case 'failed':
          failure =
            message.code === 'EADDRINUSE'
              ? `port ${start.port} is in use by another program`
              : message.message;
          break;
      }
    });
    child.onExit((code) => {
      if (this.#child !== child) return; // stopped on purpose
      this.#child = null;
      if (this.#clock.now() - this.#startedAt >= RESTART_BACKOFF.stableAfterMs) this.#attempt = 0;
      const delay = reconnectDelay(RESTART_BACKOFF, { attempt: this.#attempt }, this.#random);
      this.#attempt++;
      const why = failure ?? `the server stopped (exit code ${code ?? 'signal'})`;
      this.#set({
        enabled: true,
        status: 'failed',
        url: null,
        detail: `${why}; restarting in ${Math.ceil(delay / 1000)} s`,
      });
      this.#restartTimer = this.#clock.setTimeout(() => {
        this.#restartTimer = undefined;
        this.#spawn();
      }, delay);
    });
  }

  #set(view: SelfHostedView): void {
    this.#view = view;
    this.emit('status', view);
  }
}
