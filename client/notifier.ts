import type { Toast } from './policy.ts';

/**
 * Raises desktop notifications. One implementation lives here (freedesktop notifications over D-Bus,
 * for the CLI on Linux); the Electron shell provides its own over `Notification`.
 */
export interface Notifier {
  notify(toast: Toast): Promise<void>;
  /** Releases the connection; later `notify` calls fail. */
  close(): Promise<void>;
}

export type NotifierErrorCode = 'notifications-unavailable' | 'notify-failed';

export class NotifierError extends Error {
  readonly code: NotifierErrorCode;
  constructor(code: NotifierErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotifierError';
    this.code = code;
  }
}

/** Keeps what it was asked to show: for tests, and for a headless run that only wants the history. */
export class MemoryNotifier implements Notifier {
  readonly shown: Toast[] = [];

  async notify(toast: Toast): Promise<void> {
    this.shown.push(toast);
  }

  async close(): Promise<void> {}
}
