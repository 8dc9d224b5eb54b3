import { describe, expect, it } from 'vitest';
import { Registry } from '../../server/registry.ts';
import type { DisconnectReason, StreamSession } from '../../server/session.ts';

/** A stand-in session: the registry only reads identity fields and calls close(). */
function fake(tokenId: string, clientId: string | null, user = 'u') {
  const closed: DisconnectReason[] = [];
  let registry: Registry | undefined;
  const session = {
    principal: { tokenId },
    clientId,
    visibility: { user, topics: ['t'] },
    closed,
    close(reason: DisconnectReason) {
      closed.push(reason);
      registry?.remove(session as unknown as StreamSession);
    },
  };
  return {
    session,
    join(r: Registry) {
      registry = r;
      r.add(session as unknown as StreamSession);
    },
  };
}

describe('Registry membership', () => {
  it('replaces only the same client of the same token', () => {
    const registry = new Registry();
    const a1 = fake('ta', 'client-1');
    const a2 = fake('ta', 'client-2');
    const b1 = fake('tb', 'client-1');
    for (const f of [a1, a2, b1]) f.join(registry);
    expect(registry.size).toBe(3);
    registry.replaceClient('ta', 'client-1');
    expect(a1.session.closed).toEqual(['replaced']);
    expect(a2.session.closed).toEqual([]);
    expect(b1.session.closed).toEqual([]);
    expect(registry.size).toBe(2);
    registry.replaceClient('ta', 'client-1'); // nothing left to replace
    expect(a1.session.closed).toEqual(['replaced']);
  });

  it('closes every stream of a revoked token and none of the others', () => {
    const registry = new Registry();
    const mine = [fake('t1', null), fake('t1', 'c'), fake('t1', null)];
    const other = fake('t2', null);
    for (const f of [...mine, other]) f.join(registry);
    registry.closeToken('t1', 'revoked');
    expect(mine.map((f) => f.session.closed)).toEqual([['revoked'], ['revoked'], ['revoked']]);
    expect(other.session.closed).toEqual([]);
    expect(registry.size).toBe(1);
    expect(registry.tokenIds()).toEqual(['t2']);
  });

  it('replaces exactly the right client among 20 000 streams of 100 tokens', () => {
    const registry = new Registry();
    const sessions = Array.from({ length: 20_000 }, (_, i) => fake(`t${i % 100}`, `client-${i}`));
    for (const f of sessions) f.join(registry);
    for (let i = 0; i < 10_000; i++) registry.replaceClient(`t${i % 100}`, `client-${i}`);
    const closed = sessions.filter((f) => f.session.closed.length > 0).length;
    expect(closed).toBe(10_000);
    expect(registry.size).toBe(10_000);
  });
});
