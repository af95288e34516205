/** A target of the benchmark: a figure, how it compares, and whether this run met it. */
export interface TargetCheck {
  name: string;
  value: number | null;
  target: string;
  met: boolean | null;
}

export function atLeast(name: string, value: number | null, min: number): TargetCheck {
  return { name, value, target: `>= ${min}`, met: value === null ? null : value >= min };
}

export function below(name: string, value: number | null, max: number): TargetCheck {
  return { name, value, target: `< ${max}`, met: value === null ? null : value < max };
}

export function atMost(name: string, value: number | null, max: number): TargetCheck {
  return { name, value, target: `<= ${max}`, met: value === null ? null : value <= max };
}

const mark = (met: boolean | null) => (met === null ? 'n/a' : met ? 'met' : 'NOT met');

/** The results as a Markdown document: figures, then targets. */
export function markdownReport(results: {
  mode: string;
  machine: Record<string, unknown>;
  figures: [string, string | number | null][];
  targets: TargetCheck[];
}): string {
  const lines = [
    `## EAP benchmark (${results.mode})`,
    '',
    `Machine: ${Object.entries(results.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
    '| figure | value |',
    '|---|---|',
    ...results.figures.map(([k, v]) => `| ${k} | ${v ?? 'n/a'} |`),
    '',
    '| target | value | goal | status |',
    '|---|---|---|---|',
    ...results.targets.map((t) => `| ${t.name} | ${t.value ?? 'n/a'} | ${t.target} | ${mark(t.met)} |`),
    '',
  ];
  return lines.join('\n');
}
