// The fuses of the binary electron-builder actually packaged, read back from it. CI's e2e job packages
// the app as shipped and points TOCSIN_PACKAGED_EXECUTABLE at it; elsewhere this skips with the reason
// (the offline layout test in desktop-build.test.ts checks the same wire on a stub binary).
import { describe, expect, it } from 'vitest';
import { configuredFuses, packagedFuses } from './fuses.ts';

const executable = process.env.TOCSIN_PACKAGED_EXECUTABLE ?? '';
if (executable === '')
  console.warn('SKIPPED packaged fuse check: TOCSIN_PACKAGED_EXECUTABLE is not set (CI packages the app)');

describe.skipIf(executable === '')('the packaged binary', () => {
  it('carries exactly the fuses electron-builder.yml sets', async () => {
    const wanted = configuredFuses();
    const actual = await packagedFuses(executable);
    for (const [name, value] of Object.entries(wanted))
      expect({ [name]: actual[name] }).toEqual({ [name]: value });
    expect(actual.runAsNode).toBe(false);
    expect(actual.enableNodeCliInspectArguments).toBe(false);
  });
});
