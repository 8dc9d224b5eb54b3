import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { safeStorage } from 'electron';
import { writeFileAtomic } from '../client/atomic-file.ts';
import { serverOrigin } from '../client/config.ts';
import { CredentialError, type CredentialStore, KeytarCredentialStore } from '../client/credentials.ts';

/**
 * Electron's safeStorage as the fallback credential store: encrypted with a key the OS keeps, in a
 * file in userData. Used only when the keychain is unavailable AND safeStorage is backed by a real
 * secret store (never its plain-text 'basic_text' backend on Linux).
 */
class SafeStorageStore implements CredentialStore {
  // The file is sealed with a key the OS keychain holds.
  readonly kind = 'os-keychain' as const;
  readonly #path: string;
  constructor(userData: string) {
    this.#path = join(userData, 'credentials.bin');
  }
  // The async calls: the synchronous ones are deprecated in Electron 45 and block the main process
  // (tray, windows, every alarm) while a keyring asks for its password.
  async #read(): Promise<Record<string, string>> {
    try {
      const sealed = Buffer.from(await readFile(this.#path, 'utf8'), 'base64');
      const { result, shouldReEncrypt } = await safeStorage.decryptStringAsync(sealed);
      const all = JSON.parse(result) as Record<string, string>;
      if (shouldReEncrypt) await this.#write(all); // the OS rotated the key
      return all;
    } catch {
      return {};
    }
  }
  async #write(all: Record<string, string>): Promise<void> {
    const sealed = await safeStorage.encryptStringAsync(JSON.stringify(all));
    await writeFileAtomic(this.#path, sealed.toString('base64'));
  }
  async get(server: string): Promise<string | null> {
    return (await this.#read())[serverOrigin(server)] ?? null;
  }
  async set(server: string, token: string): Promise<void> {
    await this.#write({ ...(await this.#read()), [serverOrigin(server)]: token });
  }
  async delete(server: string): Promise<boolean> {
    const all = await this.#read();
    const key = serverOrigin(server);
    if (!(key in all)) return false;
    delete all[key];
    await this.#write(all);
    return true;
  }
}

export async function safeStorageUsable(): Promise<boolean> {
  if (!(await safeStorage.isAsyncEncryptionAvailable())) return false;
  return process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
}

/**
 * keytar first; when it is missing or no keychain answers, safeStorage if it is really encrypted;
 * else the clear error. A locked keychain is not a reason to fall back: the token is in it.
 */
export function desktopCredentials(userData: string, log: (m: string) => void): CredentialStore {
  const keychain = new KeytarCredentialStore({ busAddress: process.env.DBUS_SESSION_BUS_ADDRESS });
  const fallback = new SafeStorageStore(userData);
  const run = async <T>(op: (store: CredentialStore) => Promise<T>): Promise<T> => {
    try {
      return await op(keychain);
    } catch (error) {
      if (
        !(error instanceof CredentialError) ||
        error.code === 'keychain-locked' ||
        !(await safeStorageUsable())
      )
        throw error;
      log(`keychain unavailable (${error.message}); using Electron safeStorage instead`);
      return op(fallback);
    }
  };
  return {
    kind: 'os-keychain',
    get: (server) => run((s) => s.get(server)),
    set: (server, token) => run((s) => s.set(server, token)),
    delete: (server) => run((s) => s.delete(server)),
  };
}
