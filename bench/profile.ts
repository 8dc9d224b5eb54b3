/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and ranks where the time went: self time per function
 * and per source file, as a share of the busy (non-idle) time.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  busyMs: number;
  functions: HotSpot[];
  files: HotSpot[];
}

function shortPath(url: string, root: string): string {
  if (url === '') return '(native / V8)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(root) ? path.slice(root.length) : path;
}

export function summarizeProfile(file: string, root: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const functions = new Map<string, HotSpot>();
  const files = new Map<string, HotSpot>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    busyUs += us;
    const where = shortPath(node.callFrame.url, root);
    const name = node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName;
    const fnKey = `${name}@${where}:${node.callFrame.lineNumber + 1}`;
    const fn = functions.get(fnKey) ?? {
      name,
      where: `${where}:${node.callFrame.lineNumber + 1}`,
      selfMs: 0,
      percent: 0,
    };
    fn.selfMs += us / 1000;
    functions.set(fnKey, fn);
    const fileSpot = files.get(where) ?? { name: where, where, selfMs: 0, percent: 0 };
    fileSpot.selfMs += us / 1000;
    files.set(where, fileSpot);
  }
  const rank = (spots: Iterable<HotSpot>) =>
    [...spots]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((s) => ({ ...s, percent: (s.selfMs / (busyUs / 1000)) * 100 }));
  return { busyMs: busyUs / 1000, functions: rank(functions.values()), files: rank(files.values()) };
}
