// The windows' pages are served from tocsin-app:// whatever the install path looks like: Windows 8.3
// temp dirs (RUNNER~1), brackets, percent signs, spaces and non-ASCII characters, and the IPC sender
// check parses the frame's URL instead of comparing it with a file:// string built by Node.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPageUrl, isAppPageUrl, resolveAppFile, serveAppFile } from '../../client/desktop/app-scheme.ts';

const WINDOWS_ROOTS = [
  'C:\\Users\\RUNNER~1\\AppData\\Local\\Temp\\tocsin\\resources\\app.asar\\dist\\renderer',
  'C:\\Users\\Zoë [work] 100%\\AppData\\Local\\Programs\\Tocsin\\resources\\app.asar\\dist\\renderer',
  'D:\\Progr~1\\日本語 %41 #x\\dist\\renderer',
];

describe('the app scheme on Windows paths', () => {
  it('was broken by the old check: Node and Chromium escape these paths differently', () => {
    // Node leaves `[` `]` as they are and escapes `%` and `~` differently from Chromium's file URLs:
    // the reason pages no longer come from file://.
    const node = pathToFileURL(WINDOWS_ROOTS[1] as string, { windows: true }).href;
    expect(node).toContain('%25');
  });

  for (const root of WINDOWS_ROOTS) {
    it(`resolves pages under ${root}`, () => {
      for (const page of ['history', 'signin', 'settings']) {
        const found = resolveAppFile(appPageUrl(page), root, path.win32);
        expect(found).toEqual({ ok: true, file: `${root}\\${page}.html`, type: 'text/html; charset=utf-8' });
      }
      const asset = resolveAppFile('tocsin-app://pages/assets/history-Ab1_.js', root, path.win32);
      expect(asset).toMatchObject({ ok: true, file: `${root}\\assets\\history-Ab1_.js` });
    });

    it(`refuses to leave ${root}`, () => {
      // Plain `..` segments are resolved by the URL parser itself: they stay inside the root.
      expect(resolveAppFile('tocsin-app://pages/../../secret.html', root, path.win32)).toMatchObject({
        ok: true,
        file: `${root}\\secret.html`,
      });
      for (const bad of [
        'tocsin-app://pages/%2e%2e%2f%2e%2e%2fsecret.html',
        'tocsin-app://pages/..%5c..%5csecret.html',
        'tocsin-app://pages/C:%5cWindows%5cwin.ini',
        'tocsin-app://pages/%5c%5cserver%5cshare%5cx.html',
        'tocsin-app://pages/x.html%00.png',
        'tocsin-app://other/history.html',
        'file:///C:/Windows/win.ini',
        'tocsin-app://pages/',
        'tocsin-app://pages/%zz.html',
      ]) {
        expect(resolveAppFile(bad, root, path.win32).ok, bad).toBe(false);
      }
    });
  }

  it('refuses traversal on POSIX paths too', () => {
    const root = '/opt/Tocsin [beta] 100%/resources/app.asar/dist/renderer';
    expect(resolveAppFile(appPageUrl('history'), root, path.posix)).toMatchObject({
      ok: true,
      file: `${root}/history.html`,
    });
    expect(resolveAppFile('tocsin-app://pages/../../etc/passwd', root, path.posix).ok).toBe(false);
    expect(resolveAppFile('tocsin-app://pages/%2F..%2F..%2Fetc%2Fpasswd', root, path.posix).ok).toBe(false);
    expect(resolveAppFile('tocsin-app://pages/secret.sqlite', root, path.posix).ok).toBe(false);
  });
});

describe('isAppPageUrl: the IPC sender check', () => {
  it('accepts our pages, with queries and fragments', () => {
    expect(isAppPageUrl(appPageUrl('history'))).toBe(true);
    expect(isAppPageUrl('tocsin-app://pages/settings.html?x=1#top')).toBe(true);
    expect(isAppPageUrl('TOCSIN-APP://PAGES/signin.html')).toBe(true);
  });

  it('refuses everything else, including look-alikes', () => {
    for (const url of [
      '',
      'about:blank',
      'file:///C:/Users/RUNNER~1/AppData/Local/Temp/app/dist/renderer/history.html',
      'https://pages/history.html',
      'tocsin-app://pages.evil.example/history.html',
      'tocsin-app://evil@pages/history.html',
      'tocsin-app://pages:8080/history.html',
      'tocsin-app-x://pages/history.html',
      'devtools://devtools/bundled/inspector.html',
    ]) {
      expect(isAppPageUrl(url), url).toBe(false);
    }
  });
});

describe('serveAppFile from a real directory with an awkward name', () => {
  let dir: string;
  let root: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tocsin scheme ~1 [x] 100% é-'));
    root = path.join(dir, 'RUNNER~1', 'Zoë [beta] %41', 'renderer');
    await mkdir(path.join(root, 'assets'), { recursive: true });
    await writeFile(path.join(root, 'history.html'), '<!doctype html><title>h</title>');
    await writeFile(path.join(root, 'assets', 'a.js'), 'export {};');
    await writeFile(path.join(dir, 'secret.html'), 'secret');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves pages and assets with their types', async () => {
    const page = await serveAppFile({ url: appPageUrl('history') }, root);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>h</title>');
    const js = await serveAppFile({ url: 'tocsin-app://pages/assets/a.js' }, root);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('answers 404 for missing files and for files outside the root', async () => {
    expect((await serveAppFile({ url: appPageUrl('nope') }, root)).status).toBe(404);
    const outside = await serveAppFile({ url: 'tocsin-app://pages/../../../secret.html' }, root);
    expect(outside.status).toBe(404);
    const encoded = await serveAppFile({ url: 'tocsin-app://pages/..%2f..%2f..%2fsecret.html' }, root);
    expect(encoded.status).toBe(404);
  });
});
