/**
 * Only web links may be attached to an alarm or opened from one: a click on a notification must
 * never launch another scheme handler (file:, javascript:, custom protocols). No dependencies, so the
 * renderer can use it too.
 */
export function isWebUrl(value: string | undefined): value is string {
  if (value === undefined) return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
