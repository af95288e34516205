import { describeFailure } from './command-failure.ts';
import { type Command, type CommandGroup, HELP_FLAGS, isGroup, parseCommandLine } from './command-line.ts';
import { program } from './program.ts';
import { UsageError } from './usage-error.ts';
import { commandUsage, groupUsage } from './usage-text.ts';

const usageOf = (entry: Command | CommandGroup) => (isGroup(entry) ? groupUsage(entry) : commandUsage(entry));

/**
 * Finds the command the words name and runs it. `--help`/`-h` (or `eap help <command>`) prints
 * its usage; a wrong command line prints `eap: <what is wrong>` and that usage, exit code 2.
 */
async function main(argv: string[]): Promise<number> {
  let entry: Command | CommandGroup = program;
  let args = argv;
  let help = false;
  try {
    if (args[0] === 'help') {
      help = true;
      args = args.slice(1);
    }
    while (isGroup(entry)) {
      const [word, ...rest] = args;
      if (word === undefined) {
        // Bare `eap` says what it can do; `eap dlq` alone is an incomplete command.
        if (help || entry === program) break;
        throw new UsageError(`${entry.name} needs a command: ${entry.commands.map((c) => c.name.split(' ').at(-1)).join(', ')}`);
      }
      if (HELP_FLAGS.includes(word)) {
        help = true;
        args = rest;
        continue;
      }
      if (word.startsWith('-')) throw new UsageError(`unknown option ${word}; a command comes first`);
      const name: string = entry.name ? `${entry.name} ${word}` : word;
      const next: Command | CommandGroup | undefined = entry.commands.find((c) => c.name === name);
      if (!next) throw new UsageError(`unknown command "${name}"`);
      entry = next;
      args = rest;
    }
    if (help) {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}" after the command to explain`);
      process.stdout.write(usageOf(entry));
      return 0;
    }
    if (isGroup(entry)) {
      process.stdout.write(usageOf(entry));
      return 0;
    }
    const input = parseCommandLine(entry, args);
    if (input === 'help') {
      process.stdout.write(usageOf(entry));
      return 0;
    }
    return await entry.run(input as Parameters<Command['run']>[0]);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`eap: ${error.message}\n\n${usageOf(entry)}`);
    return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`eap: ${describeFailure(error)}\n`);
  // A command that failed half-way may leave clients retrying in the background; they must not
  // keep the process alive.
  process.exit(1);
}
