// The Windows tray .ico: both real tray PNGs inside, with a directory Windows can read.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { icoFromPngs, pngSize } from '../../client/desktop/ico.ts';

const ICONS = fileURLToPath(new URL('../../assets/icons/', import.meta.url));

describe('icoFromPngs', () => {
  it('packs the 16 and 32 px tray images with a correct directory', async () => {
    const small = await readFile(`${ICONS}tray-live.png`);
    const large = await readFile(`${ICONS}tray-live@2x.png`);
    const ico = icoFromPngs([small, large]);
    expect(ico.readUInt16LE(0)).toBe(0);
    expect(ico.readUInt16LE(2)).toBe(1);
    expect(ico.readUInt16LE(4)).toBe(2);
    const entry = (i: number) => ({
      width: ico.readUInt8(6 + i * 16),
      height: ico.readUInt8(7 + i * 16),
      bits: ico.readUInt16LE(12 + i * 16),
      size: ico.readUInt32LE(14 + i * 16),
      offset: ico.readUInt32LE(18 + i * 16),
    });
    expect(entry(0)).toMatchObject({ width: 16, height: 16, bits: 32, size: small.length, offset: 38 });
    expect(entry(1)).toMatchObject({ width: 32, height: 32, size: large.length, offset: 38 + small.length });
    expect(ico.subarray(entry(1).offset, entry(1).offset + entry(1).size).equals(large)).toBe(true);
    expect(ico.length).toBe(38 + small.length + large.length);
  });

  it('writes 256 px as 0, as the format says, and refuses what is not a PNG', async () => {
    const big = await readFile(`${ICONS}app-256.png`);
    expect(pngSize(big)).toEqual({ width: 256, height: 256 });
    expect(icoFromPngs([big]).readUInt8(6)).toBe(0);
    expect(() => icoFromPngs([Buffer.from('GIF89a not a png at all.....')])).toThrow('not a PNG');
  });
});
