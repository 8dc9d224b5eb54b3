/**
 * The agent's one observable connection state. Every state says why it was entered, so a tray icon,
 * a CLI line and a test can all tell "reconnecting after a heartbeat timeout" from "rate-limited".
 */

/** Why a connection attempt is being made. */
export type ConnectReason =
  | 'start'
  | 'retry'
  | 'resume'
  | 'online'
  | 'clock-drift'
  | 'offline-probe'
  | 'cursor-rejected'
  | 'store-changed'
  | 'token-changed';

/** Why a stream ended or could not be opened, when the agent will try again. */
export type FailureReason =
  | 'network-error'
  | 'connect-timeout'
  | 'server-closed'
  | 'heartbeat-timeout'
  | 'rate-limited'
  | 'unavailable'
  | 'not-found'
  | 'rejected'
  | 'http-error'
  | 'bad-response';

export type ConnectionState =
  | {
      readonly status: 'connecting';
      readonly reason: ConnectReason;
      readonly attempt: number;
      readonly since: number;
    }
  | {
      readonly status: 'live';
      readonly reason: 'ready';
      readonly since: number;
      readonly heartbeatMs: number;
      readonly storeId: string;
    }
  | {
      readonly status: 'reconnecting';
      readonly reason: FailureReason;
      readonly since: number;
      readonly attempt: number;
      /** Epoch ms of the next attempt (for display; the wait itself is timed on the monotonic clock). */
      readonly nextAttemptAt: number;
      /** The wait before the next attempt. */
      readonly delayMs: number;
      readonly detail: string;
      readonly httpStatus?: number;
    }
  | {
      readonly status: 'offline';
      readonly reason: 'offline';
      readonly since: number;
      readonly nextProbeAt: number;
    }
  | { readonly status: 'suspended'; readonly reason: 'suspend'; readonly since: number }
  | {
      readonly status: 'auth-required';
      readonly reason: 'unauthorized' | 'forbidden';
      readonly since: number;
      readonly detail: string;
    }
  | {
      readonly status: 'stopped';
      readonly reason: 'stop';
      readonly since: number;
      readonly detail?: string;
    };

export type ConnectionStatus = ConnectionState['status'];

const ALLOWED: Record<ConnectionStatus, readonly ConnectionStatus[]> = {
  stopped: ['connecting', 'stopped'],
  connecting: ['connecting', 'live', 'reconnecting', 'offline', 'suspended', 'auth-required', 'stopped'],
  live: ['connecting', 'reconnecting', 'offline', 'suspended', 'stopped'],
  reconnecting: ['connecting', 'offline', 'suspended', 'stopped'],
  offline: ['connecting', 'offline', 'suspended', 'stopped'],
  suspended: ['connecting', 'offline', 'stopped'],
  'auth-required': ['connecting', 'stopped'],
};

/** The transitions the agent may make; anything else is a bug (tests check every observed pair). */
export function canTransition(from: ConnectionStatus, to: ConnectionStatus): boolean {
  return ALLOWED[from].includes(to);
}

function seconds(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** One line in plain words, for a tray tooltip or the CLI's stderr. */
export function describeState(state: ConnectionState, now: number): string {
  switch (state.status) {
    case 'connecting':
      return state.reason === 'start' ? 'connecting' : `connecting (${state.reason})`;
    case 'live':
      return 'live';
    case 'reconnecting':
      return `reconnecting in ${seconds(state.nextAttemptAt - now)}: ${state.detail}`;
    case 'offline':
      return 'offline: waiting for the network';
    case 'suspended':
      return 'suspended: the system is asleep';
    case 'auth-required':
      return `sign-in required: ${state.detail}`;
    case 'stopped':
      return state.detail === undefined ? 'stopped' : `stopped: ${state.detail}`;
  }
}

export type StateListener = (state: ConnectionState, previous: ConnectionState) => void;

/** Holds the current state and tells subscribers about every change. */
export class ConnectionStateMachine {
  #state: ConnectionState;
  readonly #listeners = new Set<StateListener>();

  constructor(initial: ConnectionState) {
    this.#state = initial;
  }

  get current(): ConnectionState {
    return this.#state;
  }

  set(next: ConnectionState): void {
    const previous = this.#state;
    this.#state = next;
    for (const listener of [...this.#listeners]) listener(next, previous);
  }

  subscribe(listener: StateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
