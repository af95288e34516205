import { describe, expect, it } from 'vitest';
import { leafOf, parsePerfScript, postgresActivity } from './perf-samples.ts';

// Samples as `perf script -F comm,pid,tid,ip,sym,dso` prints them (frames shortened), from a
// recording without call chains and from one with them (`perf record -g`).
const FLAT = [
  'MainThread  6492/6492      7f3c4e1641d2 [unknown] (/tmp/perf-6492.map)',
  'V8Worker  6492/6497          a5aebe v8::internal::MarkingVisitor::Visit (/usr/bin/node)',
].join('\n');

const CHAINS = `postgres  6504/6504  
\t          57a413 varstr_cmp (/usr/lib/postgresql/15/bin/postgres)
\t          1b7b00 _bt_compare (/usr/lib/postgresql/15/bin/postgres)
\t          2faff7 ExecCheckIndexConstraints (/usr/lib/postgresql/15/bin/postgres)
\t          18430 plpgsql_exec_trigger (/usr/lib/postgresql/15/lib/plpgsql.so)
\t          2dd798 AfterTriggerEndQuery (/usr/lib/postgresql/15/bin/postgres)
\t          28533b CopyFrom (/usr/lib/postgresql/15/bin/postgres)

postgres  6504/6504  
\tffffffff8170fef2 __x64_sys_fdatasync ([kernel.kallsyms])
\t           fece0 fdatasync (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t          1ead80 XLogFlush (/usr/lib/postgresql/15/bin/postgres)
\t          1e5885 CommitTransactionCommand (/usr/lib/postgresql/15/bin/postgres)

redis-server  7001/7001  
\tffffffff81b6dded copy_folio_from_iter_atomic ([kernel.kallsyms])
`;

/** A call chain of PostgreSQL's functions, innermost first. */
const chain = (...symbols: string[]) => symbols.map((symbol) => ({ symbol, dso: '/usr/lib/postgresql/15/bin/postgres' }));

describe('perf script samples', () => {
  it('reads one line per sample when there are no call chains', () => {
    const samples = parsePerfScript(FLAT);
    expect(samples.map((s) => [s.thread, s.pid, leafOf(s).symbol, leafOf(s).dso])).toEqual([
      ['MainThread', 6492, '[unknown]', '/tmp/perf-6492.map'],
      ['V8Worker', 6492, 'v8::internal::MarkingVisitor::Visit', '/usr/bin/node'],
    ]);
  });

  it('reads each frame of a call chain, innermost first', () => {
    const samples = parsePerfScript(CHAINS);
    expect(samples.map((s) => [s.thread, s.pid, s.frames.length])).toEqual([
      ['postgres', 6504, 6],
      ['postgres', 6504, 4],
      ['redis-server', 7001, 1],
    ]);
    expect(leafOf(samples[0]!)).toEqual({ symbol: 'varstr_cmp', dso: '/usr/lib/postgresql/15/bin/postgres' });
    expect(samples[1]!.frames[0]).toEqual({ symbol: '__x64_sys_fdatasync', dso: '[kernel.kallsyms]' });
  });

  it('tells what PostgreSQL was doing from the whole chain', () => {
    const [trigger, commit] = parsePerfScript(CHAINS);
    expect(postgresActivity(trigger!.frames)).toBe('triggers: unique-index checks of their upserts');
    expect(postgresActivity(commit!.frames)).toBe('commit');
    expect(postgresActivity(chain('tuplesort_performsort', 'AfterTriggerEndQuery', 'CopyFrom'))).toBe('triggers: sorting');
    expect(postgresActivity(chain('date_trunc', 'AfterTriggerEndQuery', 'CopyFrom'))).toBe('triggers: the rest');
    expect(postgresActivity(chain('_bt_compare', 'btinsert', 'ExecInsertIndexTuples', 'CopyFrom'))).toBe('COPY: index insertion');
    expect(postgresActivity(chain('json_lex', 'jsonb_in', 'NextCopyFrom', 'CopyFrom'))).toBe('COPY: reading and parsing the input');
    expect(postgresActivity(chain('heap_multi_insert', 'CopyFrom'))).toBe('COPY: heap, WAL and the rest');
    expect(postgresActivity(chain('BgBufferSync', 'BackgroundWriterMain'))).toBe('background processes');
    expect(postgresActivity(chain('pg_plan_query', 'PostgresMain'))).toBe('other');
    expect(postgresActivity([])).toBe('other');
  });
});
