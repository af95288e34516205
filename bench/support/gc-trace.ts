/**
 * Garbage collection of a process as V8 itself reports it: one line per collection from
 * `node --trace-gc-nvp`. Unlike CPU time these counts hardly depend on how fast the machine is,
 * so two builds can be compared on a noisy day: how often the young generation is collected, how
 * much of it survives, and how much is promoted to the old generation, where only a major
 * collection (marking the whole heap) frees it again.
 */
export interface GcTrace {
  /** Young-generation collections (`gc=s`). */
  scavenges: number;
  /** Every other collection: major ones and their incremental or concurrent steps. */
  majors: number;
  /** Main-thread pause of all collections, ms. */
  pauseMs: number;
  /** Bytes that survived the scavenges, promoted ones included. */
  survivedBytes: number;
  /** Bytes the scavenges moved to the old generation. */
  promotedBytes: number;
}

function field(line: string, name: string): number {
  const match = new RegExp(`\\b${name}=([\\d.]+)`).exec(line);
  return match ? Number(match[1]) : 0;
}

/** Sums the `--trace-gc-nvp` lines in `output`; other lines (the process's logs) are skipped. */
export function summarizeGcTrace(output: string): GcTrace {
  const trace: GcTrace = { scavenges: 0, majors: 0, pauseMs: 0, survivedBytes: 0, promotedBytes: 0 };
  for (const line of output.split('\n')) {
    const kind = /\bgc=(\w+)/.exec(line)?.[1];
    if (kind === undefined) continue;
    trace.pauseMs += field(line, 'pause');
    if (kind === 's') {
      trace.scavenges++;
      trace.survivedBytes += field(line, 'new_space_survived');
      trace.promotedBytes += field(line, 'promoted');
    } else {
      trace.majors++;
    }
  }
  return trace;
}

/** The trace per `units` of work (events), as lines to print. */
export function describeGcTrace(trace: GcTrace, units: number): string[] {
  const per1000 = (n: number, digits: number) => ((n * 1000) / units).toFixed(digits);
  return [
    `per 1,000 events: ${per1000(trace.scavenges, 2)} scavenges, ${per1000(trace.majors, 3)} other collections, ${per1000(trace.pauseMs, 2)} ms of pauses`,
    `per event: ${Math.round(trace.survivedBytes / units)} bytes survived a scavenge, ${Math.round(trace.promotedBytes / units)} promoted`,
  ];
}
