import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { z } from 'zod';
import { UsageError } from './usage-error.ts';

// The shape every `eap` command declares, and the one parser of its command line: options,
// operands and help are checked here, so a command's `run` starts from valid input and its usage
// text (usage-text.ts) is written from the same declaration.

/** One `--option` of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The option may be repeated; its value is then a list. */
  multiple?: boolean;
  /** Must be given (and not empty). */
  required?: boolean;
  default?: string;
  /** Placeholder of the value in the usage text, e.g. `N`; default `VALUE`. */
  value?: string;
  description: string;
}

type OptionSpecs = Record<string, OptionSpec>;
type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean' ? boolean : S['multiple'] extends true ? string[] : string;

/** The parsed values of a command's options, typed from its declaration. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]: O[K] extends { default: string } | { required: true } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

/** A command that runs: `eap api`, `eap dlq replay`, ... */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  /** Its words after `eap`, e.g. `dlq replay`. */
  name: string;
  /** One line, shown in the command lists. */
  summary: string;
  /** More about what it does, shown in its own usage. */
  details?: string;
  /** The usage line after `eap <name>`, when the options alone do not say it (e.g. alternatives). */
  synopsis?: string;
  /** Positional arguments: how many (`max` may be Infinity) and what they are. */
  operands?: { name: string; min: number; max: number; description: string };
  options: O;
  /** The environment it reads, listed in its usage. */
  environment?: z.ZodObject;
  run(input: { values: OptionValues<O>; operands: string[] }): Promise<number>;
}

/** Commands under one word: `eap dlq list|show|...`; the whole program is one too. */
export interface CommandGroup {
  name: string;
  summary: string;
  details?: string;
  commands: (Command | CommandGroup)[];
}

/** Keeps the option types of a command's declaration for its `run`. */
export function defineCommand<const O extends OptionSpecs>(command: Command<O>): Command {
  return command as unknown as Command;
}

export function isGroup(entry: Command | CommandGroup): entry is CommandGroup {
  return 'commands' in entry;
}

export const HELP_FLAGS = ['--help', '-h'];

/**
 * Parses a command's arguments strictly: an unknown or repeated option, a missing value, a
 * missing or extra operand is a UsageError. `help` when `--help`/`-h` is among the options.
 */
export function parseCommandLine(command: Command, args: string[]): 'help' | { values: Record<string, unknown>; operands: string[] } {
  const end = args.indexOf('--');
  if ((end === -1 ? args : args.slice(0, end)).some((arg) => HELP_FLAGS.includes(arg))) return 'help';
  const parsed = parseStrictly(command, args);
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name) && !command.options[token.name]?.multiple) throw new UsageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  for (const [name, spec] of Object.entries(command.options)) {
    const value = parsed.values[name];
    if (spec.type === 'string' && value === '') throw new UsageError(`--${name} needs a value`);
    if (spec.required && value === undefined) throw new UsageError(`missing --${name} ${spec.value ?? 'VALUE'}`);
  }
  const operands = parsed.positionals;
  const { name = '', min = 0, max = 0 } = command.operands ?? {};
  if (operands.length < min) throw new UsageError(`missing ${name}`);
  if (operands.length > max) throw new UsageError(`unexpected argument "${operands[max]}"`);
  return { values: parsed.values, operands };
}

function parseStrictly(command: Command, args: string[]) {
  const options: ParseArgsOptionsConfig = {};
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = { type: spec.type, multiple: spec.multiple ?? false, ...(spec.default === undefined ? {} : { default: spec.default }) };
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
}

/** node:util parseArgs errors, some of several lines, as one line that names the option. */
function describeParseError(error: Error & { code?: string }): string {
  const option = /'(-[^' ]*)/.exec(error.message)?.[1] ?? '';
  const long = /--[\w-]+/.exec(error.message)?.[0] ?? option;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (error.message.includes('does not take an argument')) return `${long} takes no value`;
    if (error.message.includes('ambiguous')) return `${long} needs a value (write ${long}=-X for a value that starts with "-")`;
    return `${long} needs a value`;
  }
  return error.message.split('\n')[0] ?? String(error);
}

/** A positive integer option value; anything else is a UsageError naming the option. */
export function positiveInteger(value: string, option: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`${option} must be a positive integer (got "${value}")`);
  return n;
}
