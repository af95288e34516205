import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';

function versionOf(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What the results were measured on; written into every results file. */
export function machineInfo(postgresBin: string, redisServer: string) {
  return {
    cores: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    redis: versionOf(redisServer, ['--version']),
    postgres: versionOf(`${postgresBin}/postgres`, ['--version']),
  };
}
