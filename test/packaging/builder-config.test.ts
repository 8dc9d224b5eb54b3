// electron-builder.yml: valid against the schema app-builder-lib ships, and it says what issue 4 asks
// for (targets, keytar unpacked, the server bundled for utilityProcess, the Secret Service on Debian),
// consistently with package.json and scripts/build-desktop.ts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APP_ID, appUserModelId, PRODUCT_NAME } from '../../client/desktop/app-identity.ts';
import { BUNDLES, macSigningArgs } from '../../scripts/build-desktop.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

interface ValidateFn {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string; params: unknown }[] | null;
}
interface AjvInstance {
  compile(schema: unknown): ValidateFn;
}
// ajv and js-yaml are electron-builder's own dependencies (no types shipped for js-yaml here).
const Ajv = require('ajv') as new (options: Record<string, unknown>) => AjvInstance;
const yaml = require('js-yaml') as { load(text: string): unknown };

type Target = string | { target: string };
interface BuilderConfig {
  appId: string;
  productName: string;
  extraMetadata?: { main?: string };
  files: string[];
  asar?: boolean;
  asarUnpack: string[];
  linux: { target: Target[]; executableName?: string };
  deb: { depends: string[] };
  mac: {
    target: Target[];
    hardenedRuntime?: boolean;
    entitlements?: string;
    entitlementsInherit?: string;
    notarize?: boolean;
    identity?: string | null;
    extendInfo?: Record<string, unknown>;
  };
  win: { target: Target[] };
}

const schema: unknown = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8'));
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
const raw = yaml.load(readFileSync(`${ROOT}electron-builder.yml`, 'utf8'));
const config = raw as BuilderConfig;
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  main?: string;
  type?: string;
  productName?: string;
};
const targets = (list: Target[]) => list.map((t) => (typeof t === 'string' ? t : t.target));
const bundle = (name: string) => {
  const spec = BUNDLES.find((b) => b.name === name);
  if (spec === undefined) throw new Error(`no bundle ${name}`);
  return `dist/${spec.output}`;
};

describe('electron-builder.yml', () => {
  it('validates against app-builder-lib/scheme.json', () => {
    const ok = validate(raw);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is checked by a validator that rejects what electron-builder would reject', () => {
    expect(validate({ ...config, apId: 'typo' })).toBe(false);
    expect(validate({ ...config, linux: { ...config.linux, target: 42 } })).toBe(false);
    expect(validate({ ...config, asarUnpack: [{ not: 'a glob' }] })).toBe(false);
  });

  it('names the app and builds deb (no AppImage), dmg and nsis', () => {
    expect(config.appId).toMatch(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/);
    expect(config.productName).toBe('Tocsin');
    // The AppImage cannot start under Ubuntu 24.04's AppArmor without --no-sandbox: not shipped.
    expect(targets(config.linux.target)).toEqual(['deb']);
    expect(targets(config.mac.target)).toContain('dmg');
    expect(targets(config.win.target)).toContain('nsis');
  });

  it('uses one identity everywhere: appId = AppUserModelID, productName in package.json too', () => {
    expect(config.appId).toBe(APP_ID);
    expect(config.productName).toBe(PRODUCT_NAME);
    // app.getName() (and so the userData folder) reads package.json: "Tocsin" in dev and packaged.
    expect(pkg.productName).toBe(PRODUCT_NAME);
    expect(appUserModelId(true, 'C:\\Users\\RUNNER~1\\AppData\\Local\\Programs\\Tocsin\\Tocsin.exe')).toBe(
      APP_ID,
    );
    expect(appUserModelId(false, 'C:\\src\\tocsin\\node_modules\\electron\\dist\\electron.exe')).toBe(
      'C:\\src\\tocsin\\node_modules\\electron\\dist\\electron.exe',
    );
  });

  it('declares the Secret Service for the deb: libsecret and a keyring daemon', () => {
    expect(config.deb.depends).toContain('libsecret-1-0');
    const keyring = config.deb.depends.find((d) =>
      d.split('|').some((alt) => alt.trim() === 'gnome-keyring'),
    );
    expect(keyring, 'a "gnome-keyring | …" alternative').toBeDefined();
    expect(keyring?.split('|').length).toBeGreaterThan(1);
  });

  it('never turns the Chromium sandbox off', () => {
    const text = readFileSync(`${ROOT}electron-builder.yml`, 'utf8')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n');
    expect(text).not.toMatch(/no-sandbox/);
    expect(JSON.stringify(raw)).not.toMatch(/no-sandbox|disable-setuid/);
  });

  it('signs on macOS: hardened runtime and entitlements for notarization, ad hoc when no certificate', () => {
    expect(config.mac.hardenedRuntime).toBe(true);
    // A menu-bar app: no idle Dock icon.
    expect(config.mac.extendInfo?.LSUIElement).toBe(true);
    expect(config.mac.notarize).toBe(true);
    // No identity in the file: the release job's CSC_LINK picks the Developer ID.
    expect(config.mac.identity).toBeUndefined();
    for (const file of [config.mac.entitlements, config.mac.entitlementsInherit]) {
      const plist = readFileSync(`${ROOT}${file}`, 'utf8');
      expect(plist).toContain('<key>com.apple.security.cs.allow-jit</key>');
      // Ad hoc + hardened runtime needs it, or the app is killed at launch.
      expect(plist).toContain('<key>com.apple.security.cs.disable-library-validation</key>');
    }
    expect(macSigningArgs('darwin', {})).toEqual(['-c.mac.identity=-', '-c.mac.notarize=false']);
    expect(macSigningArgs('darwin', { CSC_LINK: '' })).toEqual([
      '-c.mac.identity=-',
      '-c.mac.notarize=false',
    ]);
    expect(macSigningArgs('darwin', { CSC_LINK: 'file:///Users/runner/cert.p12' })).toEqual([]);
    expect(macSigningArgs('darwin', { CSC_NAME: 'Developer ID Application: Tocsin (ABCDE12345)' })).toEqual(
      [],
    );
    expect(macSigningArgs('linux', {})).toEqual([]);
    expect(macSigningArgs('win32', {})).toEqual([]);
    // What the ad hoc arguments set is valid configuration.
    expect(validate({ ...config, mac: { ...config.mac, identity: '-', notarize: false } })).toBe(true);
  });

  it('flips the fuses: no run-as-node, NODE_OPTIONS or --inspect; asar only, with integrity; no file:// privileges', () => {
    expect((raw as { electronFuses?: unknown }).electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    });
    // The schema knows these names: a typo would not validate.
    expect(validate({ ...config, electronFuses: { runAsNod: false } })).toBe(false);
  });

  it('unpacks keytar from the asar (native code cannot load from inside it)', () => {
    expect(config.asar ?? true).toBe(true);
    expect(config.asarUnpack).toContain('**/node_modules/keytar/**');
    expect(config.files).toEqual(expect.arrayContaining(['node_modules/keytar/build/Release/*.node']));
  });

  it('ships the bundles scripts/build-desktop.ts writes, with the same main entry as package.json', () => {
    expect(pkg.main).toBe(bundle('main'));
    expect(config.extraMetadata?.main ?? pkg.main).toBe(pkg.main);
    // ESM main process and embedded server: the shipped package.json must keep "type": "module".
    expect(pkg.type).toBe('module');
    expect(bundle('preload')).toMatch(/\.cjs$/);
    for (const dir of ['dist/main/**', 'dist/server/**', 'dist/renderer/**', 'assets/icons/**']) {
      expect(config.files).toContain(dir);
    }
    expect(config.files).toContain(`${bundle('server').replace(/\/[^/]+$/, '')}/**`);
  });
});
