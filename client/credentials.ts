import { serverOrigin } from './config.ts';
import { countLockedSecrets } from './secret-service.ts';

/**
 * Where a server's token is kept. The token is never written to a plain file or logged: the OS
 * keychain holds it, or (when there is none) only memory does, and the user is told.
 */
export interface CredentialStore {
  /** 'os-keychain' or 'memory': lets the UI say whether the token will be remembered. */
  readonly kind: 'os-keychain' | 'memory';
  get(server: string): Promise<string | null>;
  set(server: string, token: string): Promise<void>;
  /** Returns false when there was nothing to delete; throws when the keychain could not be asked. */
  delete(server: string): Promise<boolean>;
}

/**
 * - keychain-module-missing: keytar (an optional dependency) is not installed or did not build;
 * - keychain-unavailable: keytar loaded, but no keychain answers (no Secret Service, no session bus);
 * - keychain-locked: the keychain is there, locked, and nobody can unlock it from here.
 */
export type CredentialErrorCode = 'keychain-module-missing' | 'keychain-unavailable' | 'keychain-locked';

export class CredentialError extends Error {
  readonly code: CredentialErrorCode;
  constructor(code: CredentialErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialError';
    this.code = code;
  }
}

export const KEYCHAIN_SERVICE = 'Tocsin';

interface KeytarApi {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export interface KeytarStoreOptions {
  /** A keychain that does not answer (a prompt nobody can see) must not hang the app. */
  readonly timeoutMs?: number;
  /** Injected in tests; default: the `keytar` package, loaded on first use. */
  readonly load?: () => Promise<KeytarApi>;
  /** The session bus of the Secret Service (Linux), asked whether a locked item hides the token. */
  readonly busAddress?: string | undefined;
  /** Injected in tests; default: the Secret Service's SearchItems (see secret-service.ts). */
  readonly countLocked?: (attributes: Readonly<Record<string, string>>) => Promise<number | null>;
}

/** What to do when keytar is absent, per platform: the only part of the message that varies. */
function keytarInstallHint(platform: NodeJS.Platform = process.platform): string {
  switch (platform) {
    case 'linux':
      return 'install libsecret (Debian/Ubuntu: apt-get install libsecret-1-dev; Fedora: dnf install libsecret-devel) and a C++ toolchain, then run `npm rebuild keytar`';
    case 'darwin':
      return 'install the Xcode command line tools (xcode-select --install), then run `npm rebuild keytar`';
    case 'win32':
      return 'install the Visual Studio Build Tools (winget install Microsoft.VisualStudio.2022.BuildTools), then run `npm rebuild keytar`';
    default:
      return 'run `npm rebuild keytar` once its build prerequisites are installed';
  }
}

/** The one sentence for a locked keychain, whatever the platform. */
const LOCKED_MESSAGE = 'your keychain is locked: unlock it and retry';

async function loadKeytar(): Promise<KeytarApi> {
  const mod = (await import('keytar')) as unknown as KeytarApi & { default?: KeytarApi };
  return mod.default ?? mod;
}

/**
 * keytar's errors are libsecret/Keychain/Credential Manager strings; this is the one place that turns
 * them into codes, so nothing downstream ever looks at the prose.
 */
function classify(error: unknown): CredentialError {
  const text = error instanceof Error ? error.message : String(error);
  if (/locked/i.test(text)) {
    return new CredentialError('keychain-locked', `${LOCKED_MESSAGE} (${text})`, { cause: error });
  }
  return new CredentialError(
    'keychain-unavailable',
    `the OS keychain is not available (${text}). On Linux a Secret Service such as gnome-keyring or KWallet must be running on the desktop session bus`,
    { cause: error },
  );
}

/** The OS keychain via keytar: service "Tocsin", account = the server's origin. */
export class KeytarCredentialStore implements CredentialStore {
  readonly kind = 'os-keychain';
  readonly #timeoutMs: number;
  readonly #load: () => Promise<KeytarApi>;
  readonly #countLocked: (attributes: Readonly<Record<string, string>>) => Promise<number | null>;
  #keytar: Promise<KeytarApi> | null = null;

  constructor(options: KeytarStoreOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#load = options.load ?? loadKeytar;
    this.#countLocked =
      options.countLocked ??
      ((attributes) =>
        countLockedSecrets(attributes, { busAddress: options.busAddress, timeoutMs: this.#timeoutMs }));
  }

  async get(server: string): Promise<string | null> {
    const token = await this.#run((k) => k.getPassword(KEYCHAIN_SERVICE, serverOrigin(server)));
    if (token === null) await this.#throwIfLocked(server);
    return token;
  }

  set(server: string, token: string): Promise<void> {
    return this.#run((k) => k.setPassword(KEYCHAIN_SERVICE, serverOrigin(server), token));
  }

  async delete(server: string): Promise<boolean> {
    const removed = await this.#run((k) => k.deletePassword(KEYCHAIN_SERVICE, serverOrigin(server)));
    if (!removed) await this.#throwIfLocked(server);
    return removed;
  }

  /** keytar answers "nothing" for an item in a locked keyring: ask whether one is hiding there. */
  async #throwIfLocked(server: string): Promise<void> {
    const locked = await this.#countLocked({ service: KEYCHAIN_SERVICE, account: serverOrigin(server) });
    if (locked !== null && locked > 0) throw new CredentialError('keychain-locked', LOCKED_MESSAGE);
  }

  async #run<T>(call: (keytar: KeytarApi) => Promise<T>): Promise<T> {
    let keytar: KeytarApi;
    try {
      this.#keytar ??= this.#load();
      keytar = await this.#keytar;
    } catch (error) {
      this.#keytar = null;
      // keytar is an optional dependency: where its native build failed, npm left it out.
      throw new CredentialError(
        'keychain-module-missing',
        `the OS keychain is not available: its module, keytar, is not installed or did not build (${firstLine(error)}); to use the keychain, ${keytarInstallHint()}`,
        { cause: error },
      );
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CredentialError(
              'keychain-unavailable',
              `the OS keychain did not answer within ${Math.round(this.#timeoutMs / 1000)} s (is it waiting for an unlock prompt?)`,
            ),
          ),
        this.#timeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([
        call(keytar).catch((error: unknown) => Promise.reject(classify(error))),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Remembers tokens only while the process lives: the fallback when there is no keychain. */
export class MemoryCredentialStore implements CredentialStore {
  readonly kind = 'memory';
  readonly #tokens = new Map<string, string>();

  async get(server: string): Promise<string | null> {
    return this.#tokens.get(serverOrigin(server)) ?? null;
  }

  async set(server: string, token: string): Promise<void> {
    this.#tokens.set(serverOrigin(server), token);
  }

  async delete(server: string): Promise<boolean> {
    return this.#tokens.delete(serverOrigin(server));
  }
}
