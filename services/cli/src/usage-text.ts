import type { z } from 'zod';
import { type Command, type CommandGroup, isGroup } from './command-line.ts';

// Usage text written from the commands' declarations, so it always says what the parser accepts.

const WIDTH = 100;

/** `eap dlq list [--limit N] [--reason R]`: what a command line of this command looks like. */
export function synopsis(command: Command): string {
  if (command.synopsis !== undefined) return `eap ${command.name} ${command.synopsis}`.trimEnd();
  const words = [`eap ${command.name}`];
  if (command.operands) {
    const { name, min, max } = command.operands;
    const many = max > 1 ? `${name}...` : name;
    words.push(min > 0 ? many : `[${many}]`);
  }
  for (const [option, spec] of Object.entries(command.options)) {
    const word = spec.type === 'boolean' ? `--${option}` : `--${option} ${spec.value ?? 'VALUE'}`;
    words.push(spec.required ? word : spec.multiple ? `[${word}]...` : `[${word}]`);
  }
  return words.join(' ');
}

/** Usage of a command: synopsis, what it does, operands, options, environment. */
export function commandUsage(command: Command): string {
  const options: [string, string][] = Object.entries(command.options).map(([option, spec]) => {
    const flag = spec.type === 'boolean' ? `--${option}` : `--${option} ${spec.value ?? 'VALUE'}`;
    const notes = [spec.required ? 'required' : '', spec.multiple ? 'repeatable' : '', spec.default ? `default ${spec.default}` : '']
      .filter(Boolean)
      .join('; ');
    return [flag, notes ? `${spec.description} (${notes})` : spec.description];
  });
  options.push(['-h, --help', 'show this help']);
  const sections = [
    wrap(synopsisItems(synopsis(command)), '    ', 'Usage: '),
    wrap(`${sentence(command.summary)}${command.details ? ` ${command.details}` : ''}`, ''),
  ];
  if (command.operands) sections.push(`Arguments:\n${table([[command.operands.name, command.operands.description]])}`);
  sections.push(`Options:\n${table(options)}`);
  if (command.environment) {
    const items = environmentList(command.environment).map((item, i, all) => (i < all.length - 1 ? `${item},` : item));
    sections.push(`Environment (docs/configuration.md describes each variable):\n${wrap(items, '  ')}`);
  } else {
    sections.push('Environment: none read.');
  }
  return `${sections.join('\n\n')}\n`;
}

/** Usage of a group of commands (and of `eap` itself): every command under it, one line each. */
export function groupUsage(group: CommandGroup): string {
  const prefix = group.name ? `eap ${group.name}` : 'eap';
  // Listed as the words after `eap`, as scripts and the image test read them.
  const rows = leaves(group).map((command): [string, string] => [synopsis(command).slice('eap '.length), command.summary]);
  return [
    `Usage: ${prefix} <command> [options]`,
    wrap(`${sentence(group.summary)}${group.details ? ` ${group.details}` : ''}`, ''),
    `Commands:\n${table(rows)}`,
    `\`${prefix} <command> --help\` shows the options of a command and the environment variables it reads.`,
  ]
    .join('\n\n')
    .concat('\n');
}

export function leaves(group: CommandGroup): Command[] {
  return group.commands.flatMap((entry) => (isGroup(entry) ? leaves(entry) : [entry]));
}

/** `DATABASE_URL (required)`, `STREAM_SHARDS (default 4)`, ...: the variables of a zod environment schema. */
export function environmentList(schema: z.ZodObject): string[] {
  // A variable with a default or optional parses when unset; a required one does not.
  return Object.entries(schema.shape).map(([name, field]) => {
    const unset = (field as z.ZodType).safeParse(undefined);
    if (!unset.success) return `${name} (required)`;
    return unset.data === undefined ? name : `${name} (default ${String(unset.data)})`;
  });
}

/** A one-line summary (`run the ingest API`) as a sentence. */
function sentence(summary: string): string {
  return `${summary.charAt(0).toUpperCase()}${summary.slice(1)}.`;
}

/** A synopsis in pieces that wrapping keeps whole: `eap`, `seed`, `[--url URL]`, ... */
function synopsisItems(text: string): string[] {
  return text.match(/\[[^\]]*\](?:\.\.\.)?|\S+/g) ?? [];
}

/** Two columns; a first column too wide for the second puts the second on the next line. */
function table(rows: [string, string][]): string {
  const column = Math.min(Math.max(...rows.map(([left]) => left.length)) + 2, 42);
  return rows
    .map(([left, right]) => {
      const indent = ' '.repeat(column + 2);
      const text = wrap(right, indent).slice(indent.length);
      if (left.length + 2 <= column) return `  ${left.padEnd(column)}${text}`;
      return `${wrap(synopsisItems(left), '      ', '  ')}\n${indent}${text}`;
    })
    .join('\n');
}

/** Wraps text (or items never to be split) at WIDTH; the first line starts with `first`, the others with `indent`. */
function wrap(text: string | string[], indent: string, first = indent): string {
  const lines: string[] = [];
  let start = first;
  let line = first;
  for (const word of typeof text === 'string' ? text.split(/\s+/).filter(Boolean) : text) {
    if (line.length > start.length && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      start = indent;
      line = indent;
    }
    line += line.length > start.length ? ` ${word}` : word;
  }
  lines.push(line);
  return lines.join('\n');
}
