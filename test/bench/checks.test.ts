import { describe, expect, it } from 'vitest';
import { checkRun } from '../../bench/checks.ts';
import type { StormResult } from '../../bench/measures/storm.ts';
import type { PassResult } from '../../bench/phases.ts';

const verify = {
  streams: 10,
  incomplete: 0,
  delivered: 100,
  lost: 0,
  duplicates: 0,
  unexpected: 0,
  outOfOrder: 0,
};
const storm = (lost: number, duplicates: number) =>
  ({ timing: 'instant', verify: { ...verify, lost, duplicates } }) as StormResult;
const pass = (extra: Partial<PassResult>): PassResult => ({
  target: 'tocsin',
  run: 1,
  fanout: [],
  throughput: [],
  errors: [],
  ...extra,
});

describe('bench pass/fail', () => {
  it('passes a clean run', () => {
    expect(checkRun({ passes: [pass({ storm: storm(0, 0) })] })).toEqual([]);
  });

  it('fails on a lost or duplicated storm delivery, naming the server and run', () => {
    expect(checkRun({ passes: [pass({ storm: storm(1, 0) })] })).toEqual([
      'Tocsin (SQLite) (run 1): storm (instant) lost 1 and duplicated 0 alarm deliveries',
    ]);
    expect(checkRun({ passes: [pass({ target: 'plain-http', run: 2, storm: storm(0, 3) })] })).toHaveLength(
      1,
    );
  });

  it('fails on missing fan-out deliveries, unacknowledged publishes and measures not taken', () => {
    const failures = checkRun({
      passes: [
        pass({
          fanout: [{ subscribers: 100, samples: 99, p50: 1, p99: 2, max: 3, missing: 1 }],
          throughput: [
            {
              concurrency: 128,
              ackedPerSec: 1,
              cpuUsPerAck: 50,
              storeCpuUsPerAck: 0,
              failed: 2,
              p50: 1,
              p99: 1,
            },
          ],
          errors: ['streams: could not open\nmore detail'],
        }),
      ],
      deliveries: [{ label: 'agent storm', lost: 0, duplicates: 1 }],
      errors: ['the agent measure failed: x'],
    });
    expect(failures).toEqual([
      'Tocsin (SQLite) (run 1): 1 fan-out deliveries to 100 subscribers never arrived',
      'Tocsin (SQLite) (run 1): 2 publishes at 128 in flight were not acknowledged',
      'Tocsin (SQLite) (run 1): streams: could not open',
      'agent storm: lost 0 and duplicated 1 alarm deliveries',
      'the agent measure failed: x',
    ]);
  });
});
