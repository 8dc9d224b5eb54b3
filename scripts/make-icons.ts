// Draws Tocsin's icons (a bell; tray badges per connection state) and writes them as PNG files.
// No image tools needed: shapes are coverage functions, supersampled, encoded with node:zlib.
// Usage: node scripts/make-icons.ts   (the PNGs are committed; rerun only to change the art)
//
// Output (main/tray.ts loads them by name; Electron picks the @2x file on HiDPI screens):
//   assets/icons/tray-<icon>.png (16 px) + tray-<icon>@2x.png (32 px)   Windows / Linux trays
//   assets/icons/tray-<icon>Template.png (+ @2x)                        macOS menu bar (black + alpha)
//   assets/icons/app-256.png                                            window icon
//   build/icon.png (512 px)                                             electron-builder's app icon
// with <icon> each TrayIcon of client/desktop/tray-menu.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import type { TrayIcon } from '../client/desktop/tray-menu.ts';

type Rgba = readonly [number, number, number, number];
/** Whether the unit-square point (x right, y down, both 0..1) is inside the shape. */
type Shape = (x: number, y: number) => boolean;
interface Layer {
  readonly shape: Shape;
  /** 'clear' punches a transparent hole through everything drawn before it. */
  readonly paint: Rgba | ((x: number, y: number) => Rgba) | 'clear';
}

// ---- geometry -------------------------------------------------------------------------------

const circle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

const roundedRect =
  (x0: number, y0: number, x1: number, y1: number, r: number): Shape =>
  (x, y) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    const dx = Math.max(x0 + r - x, 0, x - (x1 - r));
    const dy = Math.max(y0 + r - y, 0, y - (y1 - r));
    return dx * dx + dy * dy <= r * r;
  };

const union =
  (...shapes: Shape[]): Shape =>
  (x, y) =>
    shapes.some((s) => s(x, y));
const minus =
  (a: Shape, b: Shape): Shape =>
  (x, y) =>
    a(x, y) && !b(x, y);

/** Maps the unit square onto the box [x0, x0+size] × [y0, y0+size] of the outer unit square. */
const placed =
  (shape: Shape, x0: number, y0: number, size: number): Shape =>
  (x, y) =>
    shape((x - x0) / size, (y - y0) / size);

/** The bell's shell (dome, flared sides, rim), shrunk by `inset` on every side. */
function bellShell(inset: number): Shape {
  const dome = circle(0.5, 0.4, 0.26 - inset);
  const body: Shape = (x, y) => {
    if (y < 0.4 || y > 0.72 - inset) return false;
    // The sides flare out slightly towards the rim, like a real bell.
    const half = 0.26 + ((y - 0.4) / 0.32) * 0.07 - inset;
    return Math.abs(x - 0.5) <= half;
  };
  const rim = roundedRect(0.1 + inset, 0.68 + inset, 0.9 - inset, 0.78 - inset, 0.05);
  return union(dome, body, rim);
}

const knob = circle(0.5, 0.135, 0.065);
const clapper = circle(0.5, 0.85, 0.085);
const bell: Shape = union(bellShell(0), knob, clapper);

/** An outlined bell (stroke `t` in unit lengths): the macOS "not connected" look. */
const hollowBell = (t: number): Shape => union(minus(bellShell(0), bellShell(t)), knob, clapper);

// Badge in the lower-right corner, with a transparent gap around it so it reads at 16 px.
const BADGE = { cx: 0.74, cy: 0.74, r: 0.26, gap: 0.07 } as const;
const badge = circle(BADGE.cx, BADGE.cy, BADGE.r);
const badgeGap = circle(BADGE.cx, BADGE.cy, BADGE.r + BADGE.gap);
const exclamation = union(
  roundedRect(BADGE.cx - 0.045, BADGE.cy - 0.17, BADGE.cx + 0.045, BADGE.cy + 0.04, 0.03),
  circle(BADGE.cx, BADGE.cy + 0.12, 0.047),
);
const pauseBars = union(
  roundedRect(BADGE.cx - 0.12, BADGE.cy - 0.13, BADGE.cx - 0.035, BADGE.cy + 0.13, 0.02),
  roundedRect(BADGE.cx + 0.035, BADGE.cy - 0.13, BADGE.cx + 0.12, BADGE.cy + 0.13, 0.02),
);

// ---- palette --------------------------------------------------------------------------------

const AMBER: Rgba = [245, 159, 0, 255];
const AMBER_EDGE: Rgba = [176, 92, 0, 255];
const GRAY: Rgba = [173, 181, 189, 255];
const GRAY_EDGE: Rgba = [88, 96, 104, 255];
const RED: Rgba = [224, 49, 49, 255];
const BLUE: Rgba = [28, 126, 214, 255];
const WHITE: Rgba = [255, 255, 255, 255];
const BLACK: Rgba = [0, 0, 0, 255];

/** A filled bell with a darker edge, so it stays visible on light and dark panels. */
function coloredBell(fill: Rgba, edge: Rgba, size: number): Layer[] {
  const edgeWidth = Math.min(0.09, 1.1 / size);
  return [
    { shape: bell, paint: edge },
    { shape: union(bellShell(edgeWidth), circle(0.5, 0.85, 0.085 - edgeWidth)), paint: fill },
  ];
}

const ellipsis = union(
  circle(BADGE.cx - 0.115, BADGE.cy, 0.045),
  circle(BADGE.cx, BADGE.cy, 0.045),
  circle(BADGE.cx + 0.115, BADGE.cy, 0.045),
);

/** Full-colour tray icons: amber = alarms get through; grey = they do not; a badge says why. */
const TRAY: Record<TrayIcon, (size: number) => Layer[]> = {
  live: (size) => coloredBell(AMBER, AMBER_EDGE, size),
  reconnecting: (size) => [
    ...coloredBell(GRAY, GRAY_EDGE, size),
    { shape: badgeGap, paint: 'clear' },
    { shape: badge, paint: AMBER_EDGE },
    { shape: ellipsis, paint: WHITE },
  ],
  offline: (size) => coloredBell(GRAY, GRAY_EDGE, size),
  'auth-required': (size) => [
    ...coloredBell(AMBER, AMBER_EDGE, size),
    { shape: badgeGap, paint: 'clear' },
    { shape: badge, paint: RED },
    { shape: exclamation, paint: WHITE },
  ],
  paused: (size) => [
    ...coloredBell(GRAY, GRAY_EDGE, size),
    { shape: badgeGap, paint: 'clear' },
    { shape: badge, paint: BLUE },
    { shape: pauseBars, paint: WHITE },
  ],
};

/** macOS template images: black and alpha only; the system tints them for light/dark menu bars. */
const badged = (bell: Shape, mark: Shape): Layer[] => [
  { shape: bell, paint: BLACK },
  { shape: badgeGap, paint: 'clear' },
  { shape: badge, paint: BLACK },
  { shape: mark, paint: 'clear' },
];
const TEMPLATE: Record<TrayIcon, (size: number) => Layer[]> = {
  live: () => [{ shape: bell, paint: BLACK }],
  reconnecting: (size) => badged(hollowBell(Math.max(0.09, 1.5 / size)), ellipsis),
  offline: (size) => [{ shape: hollowBell(Math.max(0.09, 1.5 / size)), paint: BLACK }],
  'auth-required': () => badged(bell, exclamation),
  paused: () => badged(bell, pauseBars),
};

/** Every tray icon state, in the order of client/desktop/tray-menu.ts's TrayIcon. */
export const TRAY_STATES = Object.keys(TRAY) as TrayIcon[];

/** The app icon: a white bell ringing (sound arcs) on an amber rounded square. */
function appLayers(): Layer[] {
  const background = roundedRect(0.04, 0.04, 0.96, 0.96, 0.2);
  const gradient = (_x: number, y: number): Rgba => {
    const t = Math.min(1, Math.max(0, (y - 0.04) / 0.92));
    return [Math.round(255 - 23 * t), Math.round(146 - 57 * t), Math.round(43 - 31 * t), 255];
  };
  const bellBox = { x0: 0.23, y0: 0.2, size: 0.54 };
  const arc =
    (r0: number, r1: number): Shape =>
    (x, y) => {
      const dx = x - 0.5;
      const dy = y - 0.47;
      const d = Math.hypot(dx, dy);
      const angle = Math.abs(Math.atan2(dy, Math.abs(dx)));
      return d >= r0 && d <= r1 && angle <= 0.55 && Math.abs(dx) > 0.2;
    };
  return [
    { shape: background, paint: gradient },
    { shape: placed(bell, bellBox.x0 + 0.012, bellBox.y0 + 0.02, bellBox.size), paint: [120, 50, 0, 70] },
    { shape: placed(bell, bellBox.x0, bellBox.y0, bellBox.size), paint: WHITE },
    { shape: union(arc(0.31, 0.345), arc(0.385, 0.42)), paint: WHITE },
  ];
}

// ---- raster + PNG ---------------------------------------------------------------------------

/** Renders layers at `size` px with `ss`×`ss` samples per pixel; returns straight-alpha RGBA. */
export function render(layers: readonly Layer[], size: number, ss = 8): Buffer {
  const out = Buffer.alloc(size * size * 4);
  const samples = ss * ss;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      // Accumulate premultiplied colour over the samples, then un-premultiply once.
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) / size;
          const y = (py + (sy + 0.5) / ss) / size;
          let cr = 0;
          let cg = 0;
          let cb = 0;
          let ca = 0;
          for (const layer of layers) {
            if (!layer.shape(x, y)) continue;
            if (layer.paint === 'clear') {
              cr = cg = cb = ca = 0;
              continue;
            }
            const [lr, lg, lb, la] = typeof layer.paint === 'function' ? layer.paint(x, y) : layer.paint;
            const alpha = la / 255;
            cr = lr * alpha + cr * (1 - alpha);
            cg = lg * alpha + cg * (1 - alpha);
            cb = lb * alpha + cb * (1 - alpha);
            ca = alpha + ca * (1 - alpha);
          }
          r += cr;
          g += cg;
          b += cb;
          a += ca;
        }
      }
      const i = (py * size + px) * 4;
      const alpha = a / samples;
      out[i] = alpha > 0 ? Math.round(r / samples / alpha) : 0;
      out[i + 1] = alpha > 0 ? Math.round(g / samples / alpha) : 0;
      out[i + 2] = alpha > 0 ? Math.round(b / samples / alpha) : 0;
      out[i + 3] = Math.round(alpha * 255);
    }
  }
  return out;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Encodes 8-bit RGBA pixels as a PNG (colour type 6, no interlace, filter 0 on every row). */
function encodePng(rgba: Buffer, width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0;
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface IconFile {
  /** Relative to the repository root. */
  readonly path: string;
  readonly size: number;
  readonly layers: () => Layer[];
}

/** Every icon file, with its pixel size. */
export function iconFiles(): IconFile[] {
  const files: IconFile[] = [];
  for (const state of TRAY_STATES) {
    const variants: [string, number, Record<TrayIcon, (size: number) => Layer[]>][] = [
      [`tray-${state}.png`, 16, TRAY],
      [`tray-${state}@2x.png`, 32, TRAY],
      [`tray-${state}Template.png`, 16, TEMPLATE],
      [`tray-${state}Template@2x.png`, 32, TEMPLATE],
    ];
    for (const [name, size, art] of variants) {
      files.push({ path: `assets/icons/${name}`, size, layers: () => art[state](size) });
    }
  }
  files.push({ path: 'assets/icons/app-256.png', size: 256, layers: appLayers });
  files.push({ path: 'build/icon.png', size: 512, layers: appLayers });
  return files;
}

/** The RGBA pixels of one icon file (big icons need fewer samples per pixel for smooth edges). */
export function drawIcon(file: IconFile): Buffer {
  return render(file.layers(), file.size, file.size >= 256 ? 3 : 8);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  await mkdir(`${root}assets/icons`, { recursive: true });
  await mkdir(`${root}build`, { recursive: true });
  for (const file of iconFiles()) {
    await writeFile(`${root}${file.path}`, encodePng(drawIcon(file), file.size, file.size));
    console.log(`make-icons: ${file.path} (${file.size}×${file.size})`);
  }
}
