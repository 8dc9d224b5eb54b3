/** What RESULTS.md records about the machine a run happened on. */
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** The open-file limit the bench and its children run with (soft = hard after the re-exec). */
  fdLimit: number;
  filesystem: string;
}

function sh(command: string): string {
  try {
    return execFileSync('bash', ['-c', command], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: sh('uname -sr'),
    fdLimit: Number(sh('ulimit -n')),
    filesystem: sh(`df -T ${JSON.stringify(tmpdir())} | awk 'NR==2 {print $2}'`),
  };
}
