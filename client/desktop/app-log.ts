import { accessSync, constants, mkdirSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import { stripControlChars } from '../../protocol/control-chars.ts';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';

/** tocsin.log, then tocsin.log.1 … tocsin.log.<keep> (classic rotation), each at most `size`. */
export interface AppLogOptions {
  readonly dir: string;
  readonly size?: `${number}${'B' | 'K' | 'M'}`;
  readonly keep?: number;
  readonly clock?: Clock;
  /** Also write each line here (the terminal when started by hand). */
  readonly echo?: (line: string) => void;
}

export const LOG_FILE = 'tocsin.log';

export interface AppLog {
  (message: string): void;
  close(): Promise<void>;
}

/**
 * The app's own log in the OS's log folder (Electron: app.getPath('logs')). A packaged app has no
 * terminal, so without this a failure at startup or a dropped notification leaves no trace. One
 * line per message, ISO time first, control characters removed (messages quote alarm text).
 */
export function openAppLog(options: AppLogOptions): AppLog {
  const clock = options.clock ?? systemClock;
  let stream: RotatingFileStream | null = null;
  try {
    // The stream reports an unusable folder by hanging, not by an error: check it first.
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    accessSync(options.dir, constants.W_OK);
    stream = createStream(LOG_FILE, {
      path: options.dir,
      size: options.size ?? '1M',
      rotate: options.keep ?? 3,
      mode: 0o600,
    });
    // A log that cannot be written must never take the app down.
    stream.on('error', () => {
      stream = null;
    });
  } catch {
    stream = null;
  }
  const log = ((message: string) => {
    const line = `${new Date(clock.now()).toISOString()} ${stripControlChars(message).replace(/\n/g, ' | ')}`;
    options.echo?.(line);
    stream?.write(`${line}\n`);
  }) as AppLog;
  log.close = async () => {
    const s = stream;
    stream = null;
    if (s === null || s.destroyed) return;
    s.end();
    // Settles on finish or on error alike, and gives up after a while: closing never blocks a quit.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished(s).catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2_000);
      }),
    ]);
    clearTimeout(timer);
  };
  return log;
}
