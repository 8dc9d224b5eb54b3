/**
 * `--profile`: runs Tocsin's phases once more with `node --cpu-prof` on the server (one server
 * process per measure, so each profile holds one kind of work) and summarises the hot spots. The
 * numbers of this pass are not used: profiling slows the server down.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchConfig } from './config.ts';
import { idlePhase, type PhaseContext, publishPhase, streamsPhase } from './phases.ts';
import { type HotSpot, summarizeProfile } from './profile.ts';
import { ROOT, TARGETS, type TargetName } from './targets.ts';

export interface ProfileReport {
  measure: string;
  target: string;
  busyMs: number;
  functions: HotSpot[];
  files: HotSpot[];
  file: string;
}

type Measure = { name: string; run: (ctx: PhaseContext) => Promise<unknown> };

export async function profilePass(
  config: BenchConfig,
  fdLimit: number,
  dir: string,
  log: (line: string) => void,
  idleSteps: number[],
  targets: TargetName[] = ['tocsin'],
): Promise<ProfileReport[]> {
  const reports: ProfileReport[] = [];
  for (const name of targets) {
    const spec = TARGETS[name];
    const measures: Measure[] = [];
    // As in the measured passes: holding idle streams does not involve the store.
    if (config.phases.includes('idle') && name !== 'tocsin-redis') {
      measures.push({
        name: `idle ${Math.max(...idleSteps)} streams, heartbeats`,
        run: (ctx) => idlePhase(spec, ctx, idleSteps),
      });
    }
    if (config.phases.includes('streams')) {
      measures.push({ name: 'fan-out', run: (ctx) => streamsPhase(spec, ctx, 'fanout') });
      measures.push({
        name: `storm ${config.storm.subscribers}×${config.storm.missed}`,
        run: (ctx) => streamsPhase(spec, ctx, 'storm'),
      });
    }
    if (config.phases.includes('publish'))
      measures.push({ name: 'publish', run: (ctx) => publishPhase(spec, ctx) });
    for (const [i, measure] of measures.entries()) {
      const cpuProfDir = join(dir, `${name}-${i}`);
      mkdirSync(cpuProfDir, { recursive: true });
      log(`  profiling ${spec.label}: ${measure.name}`);
      try {
        await measure.run({ config, fdLimit, log: () => {}, cpuProfDir });
      } catch (error) {
        log(`  (${(error as Error).message.split('\n')[0]}; the profile is kept)`);
      }
      // The main thread's profile (thread 0); a SQLite writer thread writes its own next to it.
      const file = readdirSync(cpuProfDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()[0];
      if (file === undefined) {
        log(`  no profile was written for ${measure.name}`);
        continue;
      }
      const summary = summarizeProfile(join(cpuProfDir, file), ROOT);
      reports.push({ measure: measure.name, target: spec.label, ...summary, file: join(cpuProfDir, file) });
      log(`  → ${join(cpuProfDir, file)}`);
    }
  }
  return reports;
}
