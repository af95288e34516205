/** One node of `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`, with the fields summarized here. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Subplan Name'?: string;
  'Actual Rows'?: number;
  'Plan Rows'?: number;
  'Actual Loops'?: number;
  'Actual Total Time'?: number;
  'Heap Fetches'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Rows Removed by Filter'?: number;
  Filter?: string;
  Plans?: PlanNode[];
}

/** A scan of one index or table, summed over the partitions it ran on. */
export interface ScanSummary {
  /** The CTE it runs in (s1, s2, …), or "main". */
  cte: string;
  node: string;
  /** The partitioned parent's index or table name. */
  target: string;
  partitions: number;
  rows: number;
  loops: number;
  heap_fetches: number | null;
  removed_by_filter: number;
  shared_hit: number;
  shared_read: number;
  filter: string | null;
}

export interface PlanSummary {
  execution_ms: number;
  planning_ms: number;
  /** Whole-plan buffers (the root node's, which include its children's). */
  shared_hit: number;
  shared_read: number;
  /** Join, aggregate and other non-scan node types, with how often they appear. */
  nodes: Record<string, number>;
  scans: ScanSummary[];
  /** Each step's CTE: rows (and the planner's estimate) and its own total time (ms, with its children). */
  ctes: Record<string, { rows: number; estimated_rows: number; ms: number }>;
}

const SCANS = /Scan$/;

/**
 * Summarizes a plan: scans grouped per CTE and per partitioned index (child index and partition
 * names mapped to their parent's through `parents`), heap fetches and buffers summed.
 */
export function summarizePlan(
  explain: { Plan: PlanNode; 'Execution Time': number; 'Planning Time': number },
  parents: ReadonlyMap<string, string>,
): PlanSummary {
  const scans = new Map<string, ScanSummary>();
  const nodes: Record<string, number> = {};
  const ctes: PlanSummary['ctes'] = {};
  const parentOf = (name: string) => parents.get(name) ?? name;
  function walk(node: PlanNode, cte: string): void {
    const subplan = node['Subplan Name']?.replace(/^CTE /, '');
    const here = subplan ?? cte;
    if (subplan)
      ctes[subplan] = {
        rows: node['Actual Rows'] ?? 0,
        estimated_rows: node['Plan Rows'] ?? 0,
        ms: Math.round((node['Actual Total Time'] ?? 0) * 10) / 10,
      };
    const type = node['Node Type'];
    const target = node['Index Name'] ?? node['Relation Name'];
    if (type === 'CTE Scan') {
      // Reads a step's rows; its buffers are the CTE's own, counted where the CTE runs.
    } else if (SCANS.test(type) && target !== undefined) {
      const key = `${here}|${type}|${parentOf(target)}`;
      const s = scans.get(key) ?? {
        cte: here,
        node: type,
        target: parentOf(target),
        partitions: 0,
        rows: 0,
        loops: 0,
        heap_fetches: type === 'Index Only Scan' ? 0 : null,
        removed_by_filter: 0,
        shared_hit: 0,
        shared_read: 0,
        filter: node.Filter ?? null,
      };
      s.partitions += 1;
      s.rows += (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1);
      s.loops += node['Actual Loops'] ?? 1;
      if (s.heap_fetches !== null) s.heap_fetches += node['Heap Fetches'] ?? 0;
      s.removed_by_filter += (node['Rows Removed by Filter'] ?? 0) * (node['Actual Loops'] ?? 1);
      s.shared_hit += node['Shared Hit Blocks'] ?? 0;
      s.shared_read += node['Shared Read Blocks'] ?? 0;
      scans.set(key, s);
    } else {
      nodes[type] = (nodes[type] ?? 0) + 1;
    }
    for (const child of node.Plans ?? []) walk(child, here);
  }
  walk(explain.Plan, 'main');
  return {
    execution_ms: Math.round(explain['Execution Time'] * 10) / 10,
    planning_ms: Math.round(explain['Planning Time'] * 10) / 10,
    shared_hit: explain.Plan['Shared Hit Blocks'] ?? 0,
    shared_read: explain.Plan['Shared Read Blocks'] ?? 0,
    nodes,
    scans: [...scans.values()],
    ctes,
  };
}

/** The scans of a summary as short lines, for the console. */
export function scanLines(summary: PlanSummary): string[] {
  return summary.scans.map(
    (s) =>
      `  ${s.cte}: ${s.node} on ${s.target} (${s.partitions} part.${s.loops > s.partitions ? `, ${s.loops} loops` : ''}): rows ${s.rows}` +
      `${s.heap_fetches === null ? '' : `, heap fetches ${s.heap_fetches}`}${s.removed_by_filter ? `, removed by filter ${s.removed_by_filter}` : ''}` +
      `, buffers hit ${s.shared_hit} read ${s.shared_read}${s.filter ? `, filter ${s.filter}` : ''}`,
  );
}
