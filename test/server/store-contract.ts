import { describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import type { AlarmStore, NewAlarm, TokenStore } from '../../server/store/store.ts';

export interface StoreFixture {
  store: AlarmStore & TokenStore;
  /** Advances the clock the store stamps alarms with. */
  setNow(ms: number): void;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Builds a store with the given retention. */
  make(retention: { maxAgeMs: number; maxCount: number }): Promise<StoreFixture>;
  /** A store of the same backend opened again on the same data (to test persistence), if supported. */
  reopen?(fixture: StoreFixture): Promise<StoreFixture>;
}

const alarm = (title: string, to: Partial<NewAlarm> = { topic: 'ops' }): NewAlarm => ({
  title,
  priority: 3,
  tags: [],
  ...to,
});

/** One contract for every backend (SQLite embedded, Redis scale-out): they must be interchangeable. */
export function describeStoreContract(name: string, options: ContractOptions): void {
  const roomy = { maxAgeMs: 3_600_000, maxCount: 1_000_000 };
  const withStore = (retention: typeof roomy, fn: (f: StoreFixture) => Promise<void>) => async () => {
    const fixture = await options.make(retention);
    try {
      await fn(fixture);
    } finally {
      await fixture.cleanup();
    }
  };

  describe(`store contract: ${name}`, () => {
    it(
      'names its newest id, the cursor before a time, and checks a cursor against its time',
      withStore(roomy, async ({ store, setNow }) => {
        expect(await store.newestId()).toBeNull();
        setNow(1_700_000_000_000);
        const a = await store.append(alarm('a'));
        setNow(1_700_000_060_000);
        const b = await store.append(alarm('b'));
        expect(await store.newestId()).toBe(b.id);
        const who = { user: 'nobody', topics: ['ops'] };
        // Reading after cursorBefore(t) yields exactly the alarms stored at or after t.
        for (const [t, expected] of [
          [1_699_999_999_999, [a, b]],
          [1_700_000_000_000, [a, b]],
          [1_700_000_000_001, [b]],
          [1_700_000_060_001, []],
        ] as const) {
          expect(await store.read(await store.cursorBefore(t), who, 10)).toEqual(expected);
        }
        expect(await store.checkCursor(a.id, a.time)).toEqual({ kind: 'complete' });
        expect(await store.checkCursor(a.id)).toEqual({ kind: 'complete' });
      }),
    );

    it(
      'keeps every field of a batch of appends exactly as given, whatever its characters',
      withStore(roomy, async ({ store }) => {
        const given: NewAlarm[] = [
          alarm('plain'),
          alarm('all fields', {
            user: 'alice',
            topic: 'ops',
            body: 'line 1\nline 2\r\n\t"quoted" \\ back\\slash',
            url: 'https://x.test/a?b=c&d=%20',
            tags: ['warning', '日本語', ''],
            priority: 5,
            icon: 'https://x.test/i.png',
            markdown: true,
            actions: [{ action: 'view', label: 'Open', url: 'https://x.test/o', clear: true }],
            attachment: { url: 'https://x.test/f.pdf', name: 'f.pdf' },
          }),
          alarm('emoji 🚨 and NUL \u0000 and \u2028 separators', {
            topic: 'ops',
            body: '{"json":"in body"}',
          }),
          alarm('only an icon', { topic: 'ops', icon: 'https://x.test/j.png' }),
        ];
        // Appended in one loop turn: one batch for the stores that group writes.
        const stored = await Promise.all(given.map((a) => store.append(a)));
        for (const [i, a] of stored.entries()) expect(a).toEqual({ ...given[i], id: a.id, time: a.time });
        const read = await store.read(null, { user: 'alice', topics: ['ops'], allTopics: true }, 10);
        expect(read).toEqual(stored);
      }),
    );

    it(
      'appends with strictly increasing ids and the store’s time, and reads them back in order',
      withStore(roomy, async ({ store, setNow }) => {
        setNow(1_700_000_000_000);
        const a = await store.append(
          alarm('a', { topic: 'ops', body: 'b', url: 'https://x.test', tags: ['t'] }),
        );
        const b = await store.append(alarm('b'));
        expect(store.compareIds(b.id, a.id)).toBeGreaterThan(0);
        expect(a.time).toBe(1_700_000_000_000);
        const read = await store.read(null, { user: 'nobody', topics: ['ops'] }, 10);
        expect(read).toEqual([a, b]);
        expect(read[0]).toMatchObject({
          title: 'a',
          body: 'b',
          url: 'https://x.test',
          tags: ['t'],
          priority: 3,
        });
      }),
    );

    it(
      'keeps order and uniqueness under concurrent appends',
      withStore(roomy, async ({ store }) => {
        const seen: Alarm[] = [];
        store.subscribe((a) => seen.push(a));
        const stored = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(alarm(`n${i}`))));
        const ids = stored.map((a) => a.id);
        expect(new Set(ids).size).toBe(200);
        const sorted = [...ids].sort((x, y) => store.compareIds(x, y));
        // Listeners see every alarm once, in id order.
        await expect.poll(() => seen.length).toBe(200);
        expect(seen.map((a) => a.id)).toEqual(sorted);
        const read = await store.read(null, { user: 'x', topics: ['ops'] }, 1000);
        expect(read.map((a) => a.id)).toEqual(sorted);
      }),
    );

    it(
      'reads only what a subscriber may see, after its cursor, up to the limit',
      withStore(roomy, async ({ store }) => {
        const ops = await store.append(alarm('ops'));
        const db = await store.append(alarm('db', { topic: 'db' }));
        const alice = await store.append(alarm('alice', { user: 'alice' }));
        const aliceOnDb = await store.append(alarm('alice-db', { user: 'alice', topic: 'db' }));
        const bob = await store.append(alarm('bob', { user: 'bob', topic: 'ops' }));
        const ids = (as: Alarm[]) => as.map((a) => a.id);
        expect(ids(await store.read(null, { user: 'alice', topics: ['ops'] }, 100))).toEqual([
          ops.id,
          alice.id,
          aliceOnDb.id,
        ]);
        expect(ids(await store.read(null, { user: 'bob', topics: [] }, 100))).toEqual([bob.id]);
        expect(ids(await store.read(null, { user: 'carol', topics: ['db', 'ops'] }, 100))).toEqual([
          ops.id,
          db.id,
        ]);
        expect(ids(await store.read(ops.id, { user: 'alice', topics: ['ops'] }, 100))).toEqual([
          alice.id,
          aliceOnDb.id,
        ]);
        expect(ids(await store.read(null, { user: 'alice', topics: ['ops'] }, 2))).toEqual([
          ops.id,
          alice.id,
        ]);
        // Every topic, plus the reader's own alarms; never another user's.
        expect(ids(await store.read(null, { user: 'carol', topics: [], allTopics: true }, 100))).toEqual([
          ops.id,
          db.id,
        ]);
        expect(ids(await store.read(null, { user: 'alice', topics: [], allTopics: true }, 100))).toEqual([
          ops.id,
          db.id,
          alice.id,
          aliceOnDb.id,
        ]);
      }),
    );

    it(
      'indexes every alarm of a concurrent burst for its own audience (appends are batched)',
      withStore(roomy, async ({ store }) => {
        // One event-loop turn: the stores commit these together (one transaction / one script).
        const stored = await Promise.all([
          store.append(alarm('ops-1')),
          store.append(alarm('alice-1', { user: 'alice' })),
          store.append(alarm('db-1', { topic: 'db' })),
          store.append(alarm('bob-1', { user: 'bob', topic: 'ops' })),
          store.append(alarm('ops-2')),
        ]);
        const [ops1, alice1, db1, bob1, ops2] = stored.map((a) => a.id) as [
          string,
          string,
          string,
          string,
          string,
        ];
        const ids = (as: Alarm[]) => as.map((a) => a.id);
        expect(ids(await store.read(null, { user: 'alice', topics: ['ops'] }, 100))).toEqual([
          ops1,
          alice1,
          ops2,
        ]);
        expect(ids(await store.read(null, { user: 'bob', topics: ['db'] }, 100))).toEqual([db1, bob1]);
        expect(ids(await store.read(null, { user: 'carol', topics: [], allTopics: true }, 100))).toEqual([
          ops1,
          db1,
          ops2,
        ]);
        expect(ids(await store.read(alice1, { user: 'alice', topics: ['ops'] }, 100))).toEqual([ops2]);
      }),
    );

    it(
      'parses only its own ids',
      withStore(roomy, async ({ store }) => {
        const a = await store.append(alarm('a'));
        expect(store.parseId(a.id)).toBe(a.id);
        for (const bad of ['', 'abc', '-1', '1.5', ' 1', '1\n2', '9'.repeat(40)])
          expect(store.parseId(bad)).toBeNull();
      }),
    );

    it(
      'proves a cursor complete, pruned (with the range) or unknown',
      withStore({ maxAgeMs: 3_600_000, maxCount: 2 }, async ({ store, setNow }) => {
        setNow(1_000_000);
        const stored = [];
        for (let i = 0; i < 5; i++) stored.push(await store.append(alarm(`n${i}`)));
        const [n0, n1, n2, n3, n4] = stored as [Alarm, Alarm, Alarm, Alarm, Alarm];
        expect(await store.checkCursor(n0.id)).toEqual({ kind: 'complete' });
        expect(await store.prune(1_000_000)).toBe(3);
        expect(await store.checkCursor(n0.id)).toEqual({ kind: 'pruned', through: n2.id });
        expect(await store.checkCursor(n1.id)).toEqual({ kind: 'pruned', through: n2.id });
        expect(await store.checkCursor(n2.id)).toEqual({ kind: 'complete' });
        expect(await store.checkCursor(n4.id)).toEqual({ kind: 'complete' });
        expect((await store.read(null, { user: 'x', topics: ['ops'] }, 10)).map((a) => a.id)).toEqual([
          n3.id,
          n4.id,
        ]);
        // An id beyond anything issued is from another sequence.
        const beyond = store.parseId(n4.id.includes('-') ? '99999999999999-0' : '999999999');
        expect(await store.checkCursor(beyond as string)).toEqual({ kind: 'unknown' });
        // Pruning again with nothing to do keeps the horizon.
        expect(await store.prune(1_000_000)).toBe(0);
        expect(await store.checkCursor(n0.id)).toEqual({ kind: 'pruned', through: n2.id });
      }),
    );

    it(
      'prunes by age',
      withStore({ maxAgeMs: 60_000, maxCount: 1_000 }, async ({ store, setNow }) => {
        setNow(1_000_000);
        await store.append(alarm('old'));
        setNow(1_100_000);
        const young = await store.append(alarm('young'));
        expect(await store.prune(1_100_000)).toBe(1);
        expect((await store.read(null, { user: 'x', topics: ['ops'] }, 10)).map((a) => a.id)).toEqual([
          young.id,
        ]);
      }),
    );

    it(
      'stores tokens as records with hashes, lists and revokes them',
      withStore(roomy, async ({ store }) => {
        const record = {
          id: 'abcdef012345',
          user: 'alice',
          scope: 'publish' as const,
          topics: ['ops'],
          createdAt: 1,
          revokedAt: null,
          secretHash: Buffer.alloc(32, 7),
        };
        expect(await store.count()).toBe(0);
        await store.insert(record);
        expect(await store.get(record.id)).toEqual(record);
        expect(await store.get('nope')).toBeUndefined();
        await store.insert({ ...record, id: 'bbbbbbbbbbbb', topics: null, scope: 'admin' });
        expect((await store.list()).map((t) => t.id).sort()).toEqual(['abcdef012345', 'bbbbbbbbbbbb']);
        expect(await store.revoke(record.id, 5)).toBe(true);
        expect(await store.revoke(record.id, 6)).toBe(false);
        expect((await store.get(record.id))?.revokedAt).toBe(5);
        expect(await store.count()).toBe(2);
      }),
    );

    it(
      'refuses appends once closed',
      withStore(roomy, async ({ store }) => {
        await store.close();
        await expect(store.append(alarm('late'))).rejects.toMatchObject({ code: 'closed' });
      }),
    );

    it(
      'keeps scheduled alarms out of the log until released, then appends each once, fields intact',
      withStore(roomy, async ({ store, setNow }) => {
        setNow(1_700_000_000_000);
        const extras: Partial<NewAlarm> = {
          icon: 'https://x.test/i.png',
          markdown: true,
          actions: [{ action: 'view', label: 'Open', url: 'mailto:a@x.test' }],
          attachment: { url: 'https://x.test/f.pdf', name: 'f.pdf' },
        };
        const soon = await store.schedule(
          alarm('soon', { topic: 'ops', ...extras }),
          1_700_000_001_000,
          1_700_000_000_000,
        );
        await store.schedule(alarm('also soon', { user: 'alice' }), 1_700_000_002_000, 1_700_000_000_000);
        await store.schedule(alarm('later'), 1_700_000_100_000, 1_700_000_000_000);
        expect(soon).toMatchObject({
          title: 'soon',
          deliverAt: 1_700_000_001_000,
          createdAt: 1_700_000_000_000,
        });
        expect(soon.id).toMatch(/^s\d+$/);
        const who = { user: 'bob', topics: ['ops'] };
        expect((await store.listScheduled(who, 10)).map((s) => s.title)).toEqual(['soon', 'later']);
        expect((await store.listScheduled({ user: 'alice', topics: [] }, 10)).map((s) => s.title)).toEqual([
          'also soon',
        ]);
        expect(await store.read(null, who, 10)).toEqual([]);
        const seen: Alarm[] = [];
        const unsubscribe = store.subscribe((a) => seen.push(a));
        expect(await store.releaseDue(1_700_000_000_500, 10)).toBe(0);
        setNow(1_700_000_005_000);
        // Concurrent releases (two ticks, or two instances) still append each alarm once.
        const released = await Promise.all([
          store.releaseDue(1_700_000_005_000, 10),
          store.releaseDue(1_700_000_005_000, 10),
          store.releaseDue(1_700_000_005_000, 10),
        ]);
        expect(released.reduce((a, b) => a + b, 0)).toBe(2);
        const read = await store.read(null, { user: 'alice', topics: ['ops'] }, 10);
        expect(read.map((a) => a.title)).toEqual(['soon', 'also soon']);
        expect(read[0]).toMatchObject({ ...extras, time: 1_700_000_005_000 });
        expect((await store.listScheduled(who, 10)).map((s) => s.title)).toEqual(['later']);
        const deadline = Date.now() + 5_000;
        while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        unsubscribe();
        expect(seen.map((a) => a.title)).toEqual(['soon', 'also soon']);
      }),
    );

    if (options.reopen !== undefined) {
      const reopen = options.reopen;
      it('keeps alarms, tokens and its store id across a reopen', async () => {
        const first = await options.make(roomy);
        const a = await first.store.append(alarm('a'));
        await first.store.schedule(alarm('pending'), Date.now() + 3_600_000, Date.now());
        const storeId = first.store.storeId();
        const second = await reopen(first);
        try {
          expect(second.store.storeId()).toBe(storeId);
          expect(await second.store.read(null, { user: 'x', topics: ['ops'] }, 10)).toEqual([a]);
          const b = await second.store.append(alarm('b'));
          expect(await second.store.listScheduled({ user: 'x', topics: ['ops'] }, 10)).toHaveLength(1);
          expect(second.store.compareIds(b.id, a.id)).toBeGreaterThan(0);
        } finally {
          await second.cleanup();
        }
      });
    }
  });
}
