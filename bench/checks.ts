/**
 * What fails a bench run, decided here from the measures themselves (the Markdown report only shows
 * the figures): an alarm a storm lost or delivered twice, a fan-out delivery that never arrived, a
 * publish the server failed, a measure that could not be taken. Each failure names its server.
 */
import type { PassResult } from './phases.ts';
import { TARGETS } from './targets.ts';

export interface CheckInput {
  passes: readonly PassResult[];
  /** Extra measures (agent, agent storm, scale-out) that could not be taken: their error messages. */
  errors?: readonly string[];
  /** Storm-like results from other measures, to hold to the same lost = 0, duplicates = 0 rule. */
  deliveries?: readonly { label: string; lost: number; duplicates: number }[];
}

export function checkRun(input: CheckInput): string[] {
  const failures: string[] = [];
  for (const pass of input.passes) {
    const label = `${TARGETS[pass.target].label} (run ${pass.run})`;
    for (const storm of [pass.agentStorm, pass.storm]) {
      if (storm !== undefined && (storm.verify.lost > 0 || storm.verify.duplicates > 0)) {
        failures.push(
          `${label}: storm (${storm.timing}) lost ${storm.verify.lost} and duplicated ${storm.verify.duplicates} alarm deliveries`,
        );
      }
    }
    for (const f of pass.fanout) {
      if (f.missing > 0)
        failures.push(
          `${label}: ${f.missing} fan-out deliveries to ${f.subscribers} subscribers never arrived`,
        );
    }
    for (const t of pass.throughput) {
      if (t.failed > 0)
        failures.push(`${label}: ${t.failed} publishes at ${t.concurrency} in flight were not acknowledged`);
    }
    for (const e of pass.errors) failures.push(`${label}: ${e.split('\n')[0]}`);
  }
  for (const d of input.deliveries ?? []) {
    if (d.lost > 0 || d.duplicates > 0)
      failures.push(`${d.label}: lost ${d.lost} and duplicated ${d.duplicates} alarm deliveries`);
  }
  for (const e of input.errors ?? []) failures.push(e.split('\n')[0] as string);
  return failures;
}
