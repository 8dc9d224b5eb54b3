import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../server/store/sqlite.ts';
import { describeStoreContract, type StoreFixture } from './store-contract.ts';

async function open(
  dataDir: string,
  retention: { maxAgeMs: number; maxCount: number },
): Promise<StoreFixture> {
  let now = Date.now();
  const store = new SqliteStore({ dataDir, retention, now: () => now });
  return {
    store,
    setNow: (ms) => {
      now = ms;
    },
    cleanup: async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const dirs = new WeakMap<StoreFixture, string>();

describeStoreContract('sqlite', {
  async make(retention) {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-store-'));
    const fixture = await open(dir, retention);
    dirs.set(fixture, dir);
    return fixture;
  },
  async reopen(fixture) {
    const dir = dirs.get(fixture) as string;
    await fixture.store.close(); // close without deleting
    return open(dir, { maxAgeMs: 3_600_000, maxCount: 1_000_000 });
  },
});
