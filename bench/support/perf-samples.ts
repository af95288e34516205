/** One frame of a sample: the function and the file (binary, library, kernel, JIT map) it is in. */
export interface Frame {
  symbol: string;
  dso: string;
}

/** One sample of `perf script -F comm,pid,tid,ip,sym,dso`: its thread and its frames, innermost first. */
export interface Sample {
  pid: number;
  thread: string;
  frames: Frame[];
}

const HEADER = /^(\S.*?)\s+(\d+)\/\d+\s*(.*)$/;
const FRAME = /^\s*[0-9a-f]+\s+(.*?)\s*\((.*)\)\s*$/;

/** One frame as perf prints it (`ip symbol (dso)`), or undefined for anything else. */
function frameOf(text: string): Frame | undefined {
  const match = FRAME.exec(text);
  return match ? { symbol: match[1]!, dso: match[2]! } : undefined;
}

/**
 * Parses what `perf script -F comm,pid,tid,ip,sym,dso` prints. Without call chains a sample is one
 * line (thread, pid/tid, then its frame); with them (`perf record -g`) the line names the thread
 * and each frame follows on an indented line of its own.
 */
export function parsePerfScript(text: string): Sample[] {
  const samples: Sample[] = [];
  let current: Sample | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      const frame = frameOf(line);
      if (frame && current) current.frames.push(frame);
      continue;
    }
    const header = HEADER.exec(line);
    if (!header) continue;
    current = { thread: header[1]!, pid: Number(header[2]), frames: [] };
    samples.push(current);
    const inline = frameOf(header[3]!);
    if (inline) current.frames.push(inline);
  }
  return samples;
}

/** The innermost frame of a sample (an empty one when perf recorded none). */
export function leafOf(sample: Sample): Frame {
  return sample.frames[0] ?? { symbol: '', dso: '' };
}

/** PostgreSQL's server processes that are not a client's backend, by their main function. */
const BACKGROUND = ['BackgroundWriterMain', 'CheckpointerMain', 'WalWriterMain', 'AutoVacWorkerMain', 'AutoVacLauncherMain'];

/**
 * What a PostgreSQL sample was doing on the write path, from its call chain (postgres exports the
 * names of its functions, so a stripped binary still shows them): the statement triggers (the
 * rollups and persons, run at the end of each COPY into `events`) and, within them, the
 * unique-index checks of their upserts and their sorts; the COPYs themselves (into `event_ids`
 * and `events` alike): index insertion, reading and parsing the input (jsonb, times, uuids), and
 * the rest (heap, WAL, partition routing); commits; the background processes; anything else
 * (parsing and planning statements, the protocol, the kernel outside these).
 */
export function postgresActivity(frames: readonly Frame[]): string {
  const names = new Set(frames.map((f) => f.symbol));
  if (names.has('AfterTriggerEndQuery')) {
    if (names.has('ExecCheckIndexConstraints')) return 'triggers: unique-index checks of their upserts';
    if (names.has('tuplesort_performsort') || names.has('tuplesort_puttupleslot')) return 'triggers: sorting';
    return 'triggers: the rest';
  }
  if (names.has('CopyFrom')) {
    if (names.has('ExecInsertIndexTuples')) return 'COPY: index insertion';
    if (names.has('NextCopyFrom')) return 'COPY: reading and parsing the input';
    return 'COPY: heap, WAL and the rest';
  }
  if (names.has('CommitTransactionCommand')) return 'commit';
  if (BACKGROUND.some((main) => names.has(main))) return 'background processes';
  return 'other';
}
