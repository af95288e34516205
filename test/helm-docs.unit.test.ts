/**
 * docs/helm.md stays true to the chart: its values table lists every documented value of
 * charts/eap-operator/values.yaml with its default and comment, and its Argo CD section shows the
 * health check the chart ships.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url).pathname;
const docs = readFileSync(`${root}docs/helm.md`, 'utf8');

/**
 * The values documented in values.yaml: each key after a `# -- ` comment (continued by `# `
 * lines), with its dotted path and the comment in one line.
 */
function documentedValues(text: string): Array<{ path: string; description: string }> {
  const found: Array<{ path: string; description: string }> = [];
  const parents: Array<{ indent: number; key: string }> = [];
  let comment: string[] | undefined;
  for (const line of text.split('\n')) {
    const start = /^\s*# -- (.*)$/.exec(line);
    const more = /^\s*# (.*)$/.exec(line);
    const key = /^(\s*)([A-Za-z]\w*):/.exec(line);
    if (start) comment = [start[1] ?? ''];
    else if (more && comment) comment.push(more[1] ?? '');
    else if (key) {
      const indent = (key[1] ?? '').length;
      while (parents.length > 0 && (parents.at(-1)?.indent ?? 0) >= indent) parents.pop();
      parents.push({ indent, key: key[2] ?? '' });
      if (comment) found.push({ path: parents.map((parent) => parent.key).join('.'), description: comment.join(' ') });
      comment = undefined;
    } else comment = undefined;
  }
  return found;
}

describe('docs/helm.md', () => {
  it('lists every value of values.yaml with its default and description', () => {
    const text = readFileSync(`${root}charts/eap-operator/values.yaml`, 'utf8');
    const defaults = parse(text) as Record<string, unknown>;
    const values = documentedValues(text);
    expect(values.map((value) => value.path)).toEqual(
      expect.arrayContaining(['image.repository', 'resources', 'podDisruptionBudget.minAvailable']),
    );
    // Every top-level value is documented, itself or through its children.
    for (const key of Object.keys(defaults))
      expect(
        values.some((value) => value.path.split('.')[0] === key),
        key,
      ).toBe(true);
    // The table's rows as their cells (the formatter pads the columns).
    const rows = docs
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split(' | ').map((cell) => cell.replace(/^\|/, '').replace(/\|$/, '').trim()));
    expect(rows).toHaveLength(values.length);
    for (const { path, description } of values) {
      const value = path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], defaults);
      expect(rows).toContainEqual([`\`${path}\``, `\`${JSON.stringify(value)}\``, description]);
    }
  });

  it('shows the Argo CD health check as the chart ships it, under the argocd-cm key Argo CD reads', () => {
    const script = readFileSync(`${root}charts/eap-operator/argocd/eventpipeline-health.lua`, 'utf8');
    expect(docs).toContain('  resource.customizations.health.eap.dev_EventPipeline: |\n');
    // In the argocd-cm example: the block scalar's lines, indented by six spaces in the list item.
    const indented = script
      .trimEnd()
      .split('\n')
      .map((line) => (line ? `      ${line}` : ''))
      .join('\n');
    expect(docs).toContain(indented);
  });
});
