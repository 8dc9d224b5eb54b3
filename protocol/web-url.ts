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

const REFUSED_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:']);

/** An absolute URL that may be stored as a click target: any scheme but those that run code or read files. */
export function isClickableUrl(value: string | undefined): value is string {
  if (value === undefined) return false;
  try {
    const { protocol } = new URL(value);
    return /^[a-z][a-z0-9+.-]*:$/.test(protocol) && !REFUSED_SCHEMES.has(protocol);
  } catch {
    return false;
  }
}

/** What a desktop client opens when the user clicks: web pages and mail, nothing else. */
export function isOpenableUrl(value: string | undefined): value is string {
  if (value === undefined) return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:' || protocol === 'mailto:';
  } catch {
    return false;
  }
}
