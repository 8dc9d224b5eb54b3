import { z } from 'zod';
import { AlarmId } from '../protocol/index.ts';
import { CoalescingWriter, writeFileAtomic } from './atomic-file.ts';
import { readJsonFile } from './json-file.ts';

/** Where the agent stands in a server's alarm sequence. */
export interface Cursor {
  /** The last alarm delivered; null: nothing yet (the server then replays all it retains). */
  readonly id: string | null;
  /** The server store the id belongs to; ids of another store mean nothing. */
  readonly storeId: string | null;
}

export type CursorProblemCode = 'cursor-corrupt' | 'cursor-unreadable';

export interface CursorProblem {
  readonly code: CursorProblemCode;
  readonly message: string;
}

export interface LoadedCursor {
  /** null when there was none, or it could not be used (then `problem` says why). */
  readonly cursor: Cursor | null;
  readonly problem?: CursorProblem;
}

export interface CursorStore {
  load(): Promise<LoadedCursor>;
  /** Persists the latest cursor; calls may be coalesced, the resolved promise means it is durable. */
  save(cursor: Cursor): Promise<void>;
  /** Waits for every pending save. */
  flush(): Promise<void>;
}

const CursorFile = z.object({
  version: z.literal(1),
  server: z.string(),
  id: AlarmId.nullable(),
  storeId: z.string().min(1).nullable(),
  savedAt: z.number(),
});

/**
 * The cursor in a small JSON file in the app's data dir, replaced atomically on every save, so a crash
 * or power loss leaves the previous cursor, never a torn one. A file that is nonetheless unreadable is
 * reported (the agent warns and replays all the server retains) rather than crashing the agent.
 */
export class FileCursorStore implements CursorStore {
  readonly #path: string;
  readonly #server: string;
  readonly #writer: CoalescingWriter<Cursor>;

  constructor(path: string, server: string) {
    this.#path = path;
    this.#server = server;
    this.#writer = new CoalescingWriter((cursor) =>
      writeFileAtomic(
        this.#path,
        `${JSON.stringify({ version: 1, server: this.#server, id: cursor.id, storeId: cursor.storeId, savedAt: Date.now() })}\n`,
      ),
    );
  }

  get path(): string {
    return this.#path;
  }

  async load(): Promise<LoadedCursor> {
    const read = await readJsonFile(this.#path, CursorFile);
    switch (read.kind) {
      case 'ok':
        return { cursor: { id: read.value.id, storeId: read.value.storeId } };
      case 'missing':
        return { cursor: null };
      case 'unreadable':
        return {
          cursor: null,
          problem: {
            code: 'cursor-unreadable',
            message: `cannot read the cursor file ${this.#path} (${read.reason}); replaying every alarm the server still holds`,
          },
        };
      case 'invalid':
        return {
          cursor: null,
          problem: {
            code: 'cursor-corrupt',
            message: `the cursor file ${this.#path} is corrupt; replaying every alarm the server still holds (some may be shown again)`,
          },
        };
    }
  }

  save(cursor: Cursor): Promise<void> {
    return this.#writer.submit(cursor);
  }

  flush(): Promise<void> {
    return this.#writer.idle();
  }
}

/** For a session that should not remember anything (tests, `--no-cursor`). */
export class MemoryCursorStore implements CursorStore {
  #cursor: Cursor | null;

  constructor(initial: Cursor | null = null) {
    this.#cursor = initial;
  }

  get current(): Cursor | null {
    return this.#cursor;
  }

  async load(): Promise<LoadedCursor> {
    return { cursor: this.#cursor };
  }

  async save(cursor: Cursor): Promise<void> {
    this.#cursor = cursor;
  }

  async flush(): Promise<void> {}
}
