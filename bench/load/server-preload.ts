/**
 * Loaded into every server under test with `node --expose-gc --import`: measurement plumbing only,
 * the server's own code is untouched. It ties the server's life to the bench (orphan-guard.ts), and
 * SIGUSR2 runs a full GC so memory is read after garbage is collected, the same way for every server.
 */
import { exitWithParent } from './orphan-guard.ts';

exitWithParent();
const gc = (globalThis as { gc?: () => void }).gc;
if (gc !== undefined) process.on('SIGUSR2', () => gc());
