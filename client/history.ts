import { z } from 'zod';
import { Alarm } from '../protocol/index.ts';
import { CoalescingWriter, writeFileAtomic } from './atomic-file.ts';
import { readJsonFile } from './json-file.ts';

export interface HistoryEntry {
  readonly alarm: Alarm;
  /** Epoch ms when this device received it. */
  readonly receivedAt: number;
}

const HistoryFile = z.object({
  version: z.literal(1),
  entries: z.array(z.object({ alarm: Alarm, receivedAt: z.number() })),
});

const DEFAULT_HISTORY_LIMIT = 500;

/**
 * The last N alarms received, newest first, for the history window. Every alarm lands here, paused or
 * not. With a path it persists (atomically, coalesced) so history survives a restart; a damaged file
 * starts an empty history rather than failing the app.
 */
export class AlarmHistory {
  readonly #limit: number;
  readonly #path: string | undefined;
  readonly #writer: CoalescingWriter<readonly HistoryEntry[]> | undefined;
  #entries: HistoryEntry[] = [];
  readonly #listeners = new Set<(entries: readonly HistoryEntry[]) => void>();

  constructor(options: { limit?: number; path?: string } = {}) {
    this.#limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(this.#limit) || this.#limit < 1) throw new RangeError('history limit must be >= 1');
    this.#path = options.path;
    const path = options.path;
    this.#writer =
      path === undefined
        ? undefined
        : new CoalescingWriter((entries) =>
            writeFileAtomic(path, `${JSON.stringify({ version: 1, entries })}\n`),
          );
  }

  /** Reads the persisted history. Returns false (and starts empty) when the file was damaged. */
  async load(): Promise<boolean> {
    if (this.#path === undefined) return true;
    const read = await readJsonFile(this.#path, HistoryFile);
    if (read.kind === 'ok') this.#entries = read.value.entries.slice(0, this.#limit);
    return read.kind === 'ok' || read.kind === 'missing';
  }

  add(alarm: Alarm, receivedAt: number): void {
    this.#entries.unshift({ alarm, receivedAt });
    if (this.#entries.length > this.#limit) this.#entries.length = this.#limit;
    this.#changed();
  }

  /** Newest first. */
  list(): readonly HistoryEntry[] {
    return this.#entries;
  }

  /** Ids in history, oldest first: seeds the agent's de-duplication after a restart. */
  ids(): string[] {
    return this.#entries.map((e) => e.alarm.id).reverse();
  }

  clear(): void {
    this.#entries = [];
    this.#changed();
  }

  subscribe(listener: (entries: readonly HistoryEntry[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async flush(): Promise<void> {
    await this.#writer?.idle();
  }

  #changed(): void {
    const snapshot = [...this.#entries];
    this.#writer?.submit(snapshot).catch(() => {
      // History is a convenience; the cursor is what guarantees delivery. Next change retries.
    });
    for (const listener of [...this.#listeners]) listener(snapshot);
  }
}
