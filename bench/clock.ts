/**
 * The bench's one clock: CLOCK_MONOTONIC in milliseconds (fractional). On Linux `process.hrtime` reads
 * clock_gettime(CLOCK_MONOTONIC), which is one machine-wide clock, so a stamp taken in the publisher
 * process and one taken in a subscriber process subtract directly: no offset, no wall-clock steps.
 * `checkSharedClock` in the subscriber pool verifies this at start-up (parent ≤ worker ≤ parent).
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
