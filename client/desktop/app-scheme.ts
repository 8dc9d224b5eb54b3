import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The windows' pages are served from `tocsin-app://pages/…` (Electron's protocol.handle), not from
 * file://. The install path never appears in a page's URL, so nothing depends on how Node and
 * Chromium each escape `~`, `[`, `]`, `%` or non-ASCII characters in it (Windows 8.3 temp dirs, user
 * profiles), and the sender of an IPC call is recognised by its parsed origin, never by comparing
 * URL strings. It also lets the packaged app turn off file://'s extra privileges (a fuse).
 */
export const APP_SCHEME = 'tocsin-app';
export const APP_HOST = 'pages';

/** The URL of one of our pages. */
export function appPageUrl(page: string): string {
  return `${APP_SCHEME}://${APP_HOST}/${encodeURIComponent(page)}.html`;
}

/** True for a frame showing one of our pages: scheme and host parsed, not string-compared. */
export function isAppPageUrl(frameUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(frameUrl);
  } catch {
    return false;
  }
  return (
    url.protocol === `${APP_SCHEME}:` &&
    url.hostname.toLowerCase() === APP_HOST &&
    url.username === '' &&
    url.port === ''
  );
}

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export type AppFileResult =
  | { readonly ok: true; readonly file: string; readonly type: string }
  | { readonly ok: false; readonly status: 400 | 404 };

/**
 * The file under `rootDir` that an app URL names, or why there is none. Pure: `path` is Node's path
 * module for the target platform (path.win32 in tests of Windows paths). Refuses other hosts, `..`
 * escapes (also percent-encoded ones), absolute and drive-letter paths, NUL bytes and unknown types.
 */
export function resolveAppFile(
  requestUrl: string,
  rootDir: string,
  path: Pick<typeof import('node:path'), 'resolve' | 'relative' | 'isAbsolute' | 'extname' | 'sep'> = {
    resolve,
    relative,
    isAbsolute,
    extname,
    sep,
  },
): AppFileResult {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { ok: false, status: 400 };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.hostname.toLowerCase() !== APP_HOST)
    return { ok: false, status: 404 };
  let name: string;
  try {
    name = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  } catch {
    return { ok: false, status: 400 };
  }
  if (name === '' || name.includes('\0') || name.includes(':') || path.isAbsolute(name))
    return { ok: false, status: 404 };
  const root = path.resolve(rootDir);
  const file = path.resolve(root, name);
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return { ok: false, status: 404 };
  const type = MIME[path.extname(file).toLowerCase()];
  if (type === undefined) return { ok: false, status: 404 };
  return { ok: true, file, type };
}

/** The handler behind protocol.handle(APP_SCHEME): reads the file (asar-aware under Electron). */
export async function serveAppFile(request: { url: string }, rootDir: string): Promise<Response> {
  const found = resolveAppFile(request.url, rootDir);
  if (!found.ok) return new Response(null, { status: found.status });
  try {
    const body = await readFile(found.file);
    return new Response(body, {
      status: 200,
      headers: { 'content-type': found.type, 'x-content-type-options': 'nosniff' },
    });
  } catch {
    return new Response(null, { status: 404 });
  }
}
