import * as chrono from 'chrono-node';

const DURATION = /^(\d+)\s*(d|days?|h|hours?|m|mins?|minutes?|s|secs?|seconds?)$/i;
const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };
// Go's time.ParseDuration forms ntfy accepts too: "1h30m", "90s", "1.5h".
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/;
const GO_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const GO_UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/**
 * ntfy's `Delay`/`At`/`In` (util/time.go: ParseFutureTime), in its order: a unix timestamp in
 * seconds (not in the past), a duration (`30m`, `3h`, `2 days`, Go's `1h30m`), then natural language
 * (`tomorrow 10am`, `8:30pm`, `Tuesday`) with chrono-node where ntfy uses olebedev/when. Returns ms
 * since the epoch, or null when the value is none of these.
 */
export function parseFutureTime(raw: string, now: number): number | null {
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    // A bare number is only ever a timestamp; one in the past is an error, as in ntfy.
    return seconds * 1000 >= now - 999 ? seconds * 1000 : null;
  }
  const duration = DURATION.exec(text);
  if (duration !== null) {
    const unit = (duration[2] as string)[0]?.toLowerCase() as string;
    return now + Number(duration[1]) * (UNIT_MS[unit] as number);
  }
  if (GO_DURATION.test(text)) {
    let ms = 0;
    for (const [, value, unit] of text.matchAll(GO_PART))
      ms += Number(value) * (GO_UNIT_MS[unit as string] as number);
    return now + Math.round(ms);
  }
  const natural = chrono.parseDate(text, new Date(now), { forwardDate: true });
  return natural === null ? null : natural.getTime();
}
