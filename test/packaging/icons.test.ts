// The committed icons are real PNGs of the right sizes, the macOS template images are black + alpha
// only, and every file is exactly what scripts/make-icons.ts draws (no hand-edited drift).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { drawIcon, iconFiles, TRAY_STATES } from '../../scripts/make-icons.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Decodes the PNGs make-icons writes (8-bit RGBA, not interlaced) and checks every CRC. */
function decodePng(file: Buffer): { width: number; height: number; rgba: Buffer } {
  expect(file.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('ascii', offset + 4, offset + 8);
    const data = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9], data[12]]).toEqual([8, 6, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4 + 1;
  expect(raw.length).toBe(stride * height);
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * stride]).toBe(0);
    raw.copy(rgba, y * width * 4, y * stride + 1, (y + 1) * stride);
  }
  return { width, height, rgba };
}

const read = (path: string) => readFileSync(`${ROOT}${path}`);

describe('icons', () => {
  it('has a tray icon per TrayIcon state at 16 px + @2x (32 px), and macOS templates', () => {
    expect(TRAY_STATES).toEqual(
      expect.arrayContaining(['live', 'reconnecting', 'offline', 'auth-required', 'paused']),
    );
    for (const state of TRAY_STATES) {
      // The names main/tray.ts loads; Electron picks the @2x file on HiDPI screens.
      const sizes: [string, number][] = [
        [`tray-${state}.png`, 16],
        [`tray-${state}@2x.png`, 32],
        [`tray-${state}Template.png`, 16],
        [`tray-${state}Template@2x.png`, 32],
      ];
      for (const [name, size] of sizes) {
        const png = decodePng(read(`assets/icons/${name}`));
        expect([png.width, png.height], name).toEqual([size, size]);
      }
    }
  });

  it('draws something different for every state', () => {
    const pixels = TRAY_STATES.map((s) =>
      decodePng(read(`assets/icons/tray-${s}@2x.png`)).rgba.toString('hex'),
    );
    expect(new Set(pixels).size).toBe(TRAY_STATES.length);
    const templates = TRAY_STATES.map((s) =>
      decodePng(read(`assets/icons/tray-${s}Template.png`)).rgba.toString('hex'),
    );
    expect(new Set(templates).size).toBe(TRAY_STATES.length);
  });

  it('makes template images black + alpha only, with visible and transparent pixels', () => {
    for (const state of TRAY_STATES) {
      const { rgba } = decodePng(read(`assets/icons/tray-${state}Template@2x.png`));
      let opaque = 0;
      let clear = 0;
      for (let i = 0; i < rgba.length; i += 4) {
        expect([rgba[i], rgba[i + 1], rgba[i + 2]]).toEqual([0, 0, 0]);
        if (rgba[i + 3] === 255) opaque++;
        if (rgba[i + 3] === 0) clear++;
      }
      expect(opaque).toBeGreaterThan(50);
      expect(clear).toBeGreaterThan(50);
    }
  });

  it('gives electron-builder a 512 px app icon in build/', () => {
    const png = decodePng(read('build/icon.png'));
    expect([png.width, png.height]).toEqual([512, 512]);
  });

  it('commits exactly the pixels scripts/make-icons.ts draws', () => {
    // Pixels, not bytes: deflate output may differ between zlib builds.
    for (const file of iconFiles()) {
      const committed = decodePng(read(file.path)).rgba;
      expect(committed.equals(drawIcon(file)), `${file.path} differs: rerun node scripts/make-icons.ts`).toBe(
        true,
      );
    }
  }, 60_000);
});
