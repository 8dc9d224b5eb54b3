#!/usr/bin/env node
// Tocsin's sources are TypeScript run directly by Node's type stripping (unflagged since 22.18).
import { runTypeScriptEntry } from './run-ts.js';

await runTypeScriptEntry(new URL('../server/main.ts', import.meta.url));
