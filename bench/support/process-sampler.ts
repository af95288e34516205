import { readFileSync } from 'node:fs';

/** Resident memory of a process in MiB (from /proc), or 0 when it is gone. */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples a value every `everyMs` and keeps the maximum, until stopped. */
export function createPeakSampler(sample: () => number | Promise<number>, everyMs = 250) {
  let peak = 0;
  let last = 0;
  const timer = setInterval(() => {
    void Promise.resolve(sample()).then(
      (v) => {
        last = v;
        if (v > peak) peak = v;
      },
      () => undefined,
    );
  }, everyMs);
  return {
    peak: () => peak,
    last: () => last,
    stop(): number {
      clearInterval(timer);
      return peak;
    },
  };
}
