// Every quit path stops the agent and the server first, once; a hanging stop never blocks the exit.
import { describe, expect, it } from 'vitest';
import { QuitGate } from '../../client/desktop/quit.ts';

describe('QuitGate', () => {
  it('holds the first quit, stops once, then lets the final quit through', async () => {
    let stops = 0;
    let exits = 0;
    let finish: () => void = () => {};
    const gate = new QuitGate({
      stop: () => {
        stops++;
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
      exit: () => {
        exits++;
      },
    });
    expect(gate.request()).toBe(true); // Cmd+Q: held
    expect(gate.request()).toBe(true); // logout while stopping: still held, no second stop
    expect(stops).toBe(1);
    expect(exits).toBe(0);
    finish();
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(exits).toBe(1);
    expect(gate.request()).toBe(false); // the exit's own before-quit passes
  });

  it('exits even when stopping fails or hangs', async () => {
    const exited: string[] = [];
    new QuitGate({
      stop: () => Promise.reject(new Error('keychain gone')),
      exit: () => exited.push('failed'),
    }).request();
    new QuitGate({
      stop: () => new Promise(() => {}),
      exit: () => exited.push('hung'),
      timeoutMs: 50,
    }).request();
    await expect.poll(() => exited.sort(), { timeout: 5_000 }).toEqual(['failed', 'hung']);
  });
});
