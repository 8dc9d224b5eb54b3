import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `data` so that a reader (or the next start after a crash or power loss) sees
 * either the old file or the new one, never a torn mix: write a temp file in the same directory,
 * fsync it, then rename over the target (atomic on POSIX, and on NTFS via MoveFileEx).
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'w', mode);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameRetrying(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
}

/** Windows: an antivirus, indexer or backup tool briefly holding the target makes rename fail. */
const TRANSIENT_RENAME = new Set(['EPERM', 'EACCES', 'EBUSY']);

/**
 * rename(), retried a few times (about 1.5 s in all) when Windows reports the target as held by
 * another process; any other error, or one that persists, is thrown.
 */
export async function renameRetrying(
  from: string,
  to: string,
  renameFn: (from: string, to: string) => Promise<void> = rename,
  delaysMs: readonly number[] = [50, 100, 200, 400, 800],
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await renameFn(from, to);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      const delay = delaysMs[attempt];
      if (!TRANSIENT_RENAME.has(code) || delay === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Runs writes one at a time, latest value wins: while a write is in flight, newer values replace each
 * other and only the last is written next. A burst of 10 000 replayed alarms costs a handful of writes.
 */
export class CoalescingWriter<T> {
  readonly #write: (value: T) => Promise<void>;
  #inFlight: Promise<void> | null = null;
  #pending: { value: T } | null = null;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(write: (value: T) => Promise<void>) {
    this.#write = write;
  }

  /** Resolves once a write that includes `value` (or a newer one) finished. */
  submit(value: T): Promise<void> {
    this.#pending = { value };
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#inFlight === null) this.#pump();
    return done;
  }

  /** Resolves when nothing is pending or in flight. */
  async idle(): Promise<void> {
    while (this.#inFlight !== null) await this.#inFlight.catch(() => {});
  }

  #pump(): void {
    const next = this.#pending;
    if (next === null) {
      this.#inFlight = null;
      return;
    }
    this.#pending = null;
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#inFlight = this.#write(next.value).then(
      () => {
        for (const w of waiters) w.resolve();
        this.#pump();
      },
      (error: unknown) => {
        for (const w of waiters) w.reject(error);
        this.#pump();
      },
    );
  }
}
