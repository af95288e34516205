/** Progress output of the k8s-tools run: `[k8s-tools +<time since start>] <message>`. */

const startedAt = Date.now();

export function elapsed(since: number = startedAt): string {
  const seconds = (Date.now() - since) / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)}s` : `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

export function log(message: string): void {
  process.stdout.write(`[k8s-tools +${elapsed()}] ${message}\n`);
}

/** Runs `fn` as a named step, printing its start and how long it took. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const begin = Date.now();
  log(`${name} ...`);
  const result = await fn();
  log(`${name}: done in ${elapsed(begin)}`);
  return result;
}
