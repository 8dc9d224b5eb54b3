import { serverOrigin } from './config.ts';

/**
 * Where a server's token is kept. The token is never written to a plain file or logged: the OS
 * keychain holds it, or (when there is none) only memory does, and the user is told.
 */
export interface CredentialStore {
  /** 'os-keychain' or 'memory': lets the UI say whether the token will be remembered. */
  readonly kind: 'os-keychain' | 'memory';
  get(server: string): Promise<string | null>;
  set(server: string, token: string): Promise<void>;
  /** Returns false when there was nothing to delete. */
  delete(server: string): Promise<boolean>;
}

export type CredentialErrorCode = 'keychain-unavailable' | 'keychain-locked';

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
}

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
    return new CredentialError(
      'keychain-locked',
      `the OS keychain is locked and could not be unlocked (${text}); unlock your login keyring and try again`,
      { cause: error },
    );
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
  #keytar: Promise<KeytarApi> | null = null;

  constructor(options: KeytarStoreOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#load = options.load ?? loadKeytar;
  }

  get(server: string): Promise<string | null> {
    return this.#run((k) => k.getPassword(KEYCHAIN_SERVICE, serverOrigin(server)));
  }

  set(server: string, token: string): Promise<void> {
    return this.#run((k) => k.setPassword(KEYCHAIN_SERVICE, serverOrigin(server), token));
  }

  delete(server: string): Promise<boolean> {
    return this.#run((k) => k.deletePassword(KEYCHAIN_SERVICE, serverOrigin(server)));
  }

  async #run<T>(call: (keytar: KeytarApi) => Promise<T>): Promise<T> {
    let keytar: KeytarApi;
    try {
      this.#keytar ??= this.#load();
      keytar = await this.#keytar;
    } catch (error) {
      this.#keytar = null;
      throw new CredentialError(
        'keychain-unavailable',
        `the OS keychain module (keytar) could not be loaded: ${(error as Error).message}`,
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
