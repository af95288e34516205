import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, runEap } from '@eap/local-services';
import { type Command, type CommandGroup, isGroup } from './command-line.ts';
import { program } from './program.ts';
import { environmentList, leaves } from './usage-text.ts';

// The real `eap` binary, as a user runs it: every command and group of the program (read from
// its declaration, so a new command is covered as soon as it exists), bad command lines, and
// servers that are not there. Nothing needs to be running.

const STACK_FRAME = /\n\s+at /;
// Each test runs the binary a few times; a loaded machine makes that slow, never wrong.
const SLOW = { timeout: 120_000 };
const commands = leaves(program);
const groups = (function collect(group: CommandGroup): CommandGroup[] {
  return [group, ...group.commands.filter(isGroup).flatMap(collect)];
})(program);
const words = (entry: Command | CommandGroup) => entry.name.split(' ').filter(Boolean);

async function help(args: string[]): Promise<string> {
  const run = await runEap(args, {});
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toBe('');
  return run.stdout;
}

const helpOutputs = new Map<string, Promise<string>>();
/** `eap <words> --help`, run once per command for the whole file. */
function helpOf(entry: Command | CommandGroup): Promise<string> {
  if (!helpOutputs.has(entry.name)) helpOutputs.set(entry.name, help([...words(entry), '--help']));
  return helpOutputs.get(entry.name)!;
}

/** Exit code 2, nothing on stdout, and on stderr `eap: <message>`, a blank line, then `usage`. */
async function expectUsageError(args: string[], message: string | RegExp, usage: string) {
  const run = await runEap(args, {});
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const [first, ...rest] = run.stderr.split('\n');
  expect(first).toMatch(typeof message === 'string' ? `eap: ${message}` : message);
  if (typeof message === 'string') expect(first).toBe(`eap: ${message}`);
  expect(rest.join('\n')).toBe(`\n${usage}`);
  expect(run.stderr).not.toMatch(STACK_FRAME);
}

/** Exit code 1 and one line on stderr matching `line`. */
async function expectOneLineFailure(args: string[], env: Record<string, string>, line: RegExp) {
  const run = await runEap(args, env);
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toMatch(/^eap: [^\n]+\n$/);
  expect(run.stderr).toMatch(line);
}

describe.concurrent('eap <command> --help and a wrong option, for every command', SLOW, () => {
  it.each(commands.map((c) => [c.name, c] as const))('eap %s', async (_, command) => {
    const usage = await helpOf(command);
    expect(usage).toMatch(new RegExp(`^Usage: eap ${command.name}\\b`));
    expect(usage).toContain('-h, --help');
    for (const option of Object.keys(command.options)) expect(usage).toContain(`--${option}`);
    // The environment it reads, all of it; or that it reads none.
    if (command.environment) for (const variable of Object.keys(command.environment.shape)) expect(usage).toContain(variable);
    else expect(usage).toContain('Environment: none read.');

    await expectUsageError([...words(command), '--no-such-option'], 'unknown option --no-such-option', usage);
  });
});

describe.concurrent('eap <group> --help, a missing and an unknown command, for every group', SLOW, () => {
  it.each(groups.map((g) => [g.name || '(eap itself)', g] as const))('%s', async (_, group) => {
    const usage = await helpOf(group);
    expect(usage).toMatch(/^Usage: eap (\S+ )?<command> \[options\]/);
    for (const command of leaves(group)) expect(usage).toMatch(new RegExp(`^  ${command.name}\\b`, 'm'));
    await expectUsageError(
      [...words(group), 'no-such-command'],
      `unknown command "${[...words(group), 'no-such-command'].join(' ')}"`,
      usage,
    );
    if (group === program) {
      expect(await help([])).toBe(usage);
      expect(await help(['-h'])).toBe(usage);
      expect(await help(['help'])).toBe(usage);
    } else {
      await expectUsageError(words(group), /^eap: \S+ needs a command: /, usage);
    }
  });
});

describe.concurrent('bad values, operands and combinations', SLOW, () => {
  const cases: [string[], string][] = [
    [['project', 'create'], 'missing --name <name>'],
    [['project', 'create', '--name'], '--name needs a value'],
    [['project', 'create', '--name='], '--name needs a value'],
    [['project', 'create', '--name', '--all'], '--name needs a value (write --name=-X for a value that starts with "-")'],
    [['project', 'create', '--name', 'a', '--name', 'b'], '--name is given more than once'],
    [['project', 'list', 'extra'], 'unexpected argument "extra"'],
    [['migrate', 'up', 'now'], 'unexpected argument "now"'],
    [['key', 'rotate', '--project', 'nope'], '--project must be a project id (UUID), not "nope"; see `eap project list`'],
    [
      ['key', 'rotate', '--project', '00000000-0000-4000-8000-000000000000', '--kind', 'admin'],
      '--kind must be write or read, not "admin"',
    ],
    [['dlq', 'list', '--limit', '0'], '--limit must be a positive integer (got "0")'],
    [['dlq', 'show'], 'missing ID'],
    [['dlq', 'show', '1-0', '2-0'], 'unexpected argument "2-0"'],
    [['dlq', 'show', 'abc'], '"abc" is not a DLQ entry id (like 1717171717171-0; see `eap dlq list`)'],
    [['dlq', 'count', '--all'], 'unknown option --all'],
    [['dlq', 'replay'], 'say what to replay: entry ids, or --all (optionally with --reason R)'],
    [['dlq', 'replay', '1-0', '--all'], 'give entry ids or --all [--reason R], not both'],
    [['dlq', 'replay', '--reason', 'db_rejected'], '--reason goes with --all'],
    [['dlq', 'replay', '--all=yes'], '--all takes no value'],
    [['dlq', 'purge'], 'missing --older-than DURATION'],
    [['dlq', 'purge', '--older-than', 'soon'], '--older-than must be a duration such as 30d, 12h, 30m, 10s, 500ms or 2w (got "soon")'],
    [['seed', '--rate', 'fast'], '--rate must be a positive integer (got "fast")'],
    [['seed', '--url', 'ftp://example.com'], '--url must be an http:// or https:// URL (got "ftp://example.com")'],
    [['seed'], 'no projects: pass --key, a --keys-file that exists, or set EAP_ADMIN_TOKEN to create them'],
    [['--verbose'], 'unknown option --verbose; a command comes first'],
  ];
  it.each(cases.map(([args, message]) => [args.join(' '), args, message] as const))('eap %s', async (_, args, message) => {
    const command = commands.find((c) => `${args.join(' ')} `.startsWith(`${c.name} `));
    await expectUsageError(args, message, await helpOf(command ?? program));
  });

  it('explains a command with `eap help <command>`, and refuses more words after it', async () => {
    const usage = await helpOf(commands.find((c) => c.name === 'dlq purge')!);
    expect(await help(['dlq', 'purge', '-h'])).toBe(usage);
    expect(await help(['help', 'dlq', 'purge'])).toBe(usage);
    await expectUsageError(['help', 'dlq', 'purge', '7d'], 'unexpected argument "7d" after the command to explain', usage);
  });
});

describe.concurrent('failures at run time: one line, exit code 1', SLOW, () => {
  it('PostgreSQL, Redis or the API not listening', async () => {
    const closed = await freePort();
    const database = { DATABASE_URL: `postgres://eap@127.0.0.1:${closed}/eap` };
    const refused = `connect ECONNREFUSED 127.0.0.1:${closed}`;
    await expectOneLineFailure(['migrate', 'up'], database, new RegExp(`^eap: PostgreSQL: ${refused}$`, 'm'));
    await expectOneLineFailure(['project', 'list'], database, new RegExp(`^eap: PostgreSQL: ${refused}$`, 'm'));
    await expectOneLineFailure(['dlq', 'count'], { REDIS_URL: `redis://127.0.0.1:${closed}` }, new RegExp(`^eap: Redis: ${refused}$`, 'm'));
    await expectOneLineFailure(
      ['seed', '--url', `http://127.0.0.1:${closed}`],
      { EAP_ADMIN_TOKEN: 'a-token-of-the-api-under-test' },
      new RegExp(`^eap: the API at http://127.0.0.1:${closed}: ${refused}$`, 'm'),
    );
  });

  it('a worker whose Redis is not there exits instead of retrying forever', async () => {
    const closed = await freePort();
    await expectOneLineFailure(
      ['worker'],
      { DATABASE_URL: `postgres://eap@127.0.0.1:${closed}/eap`, REDIS_URL: `redis://127.0.0.1:${closed}`, ADMIN_PORT: '0' },
      /^eap: cannot start: Redis connection closed \(is REDIS_URL reachable\?\)$/m,
    );
  });

  it('an API whose port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expectOneLineFailure(
        ['api'],
        {
          DATABASE_URL: 'postgres://eap@127.0.0.1:1/eap',
          REDIS_URL: 'redis://127.0.0.1:1',
          HOST: '127.0.0.1',
          PORT: String(port),
          ADMIN_PORT: '0',
        },
        new RegExp(`^eap: cannot start: listen EADDRINUSE: address already in use 127.0.0.1:${port}$`, 'm'),
      );
    } finally {
      taken.close();
    }
  });

  it('a --keys-file that is not what `eap seed` writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eap-seed-'));
    const file = join(dir, 'keys.json');
    try {
      writeFileSync(file, 'not json\n');
      await expectOneLineFailure(['seed', '--keys-file', file], {}, /^eap: --keys-file .* is not JSON: /);
      writeFileSync(file, '{"write_key":"k"}');
      await expectOneLineFailure(['seed', '--keys-file', file], {}, /is not a list of \{"project_id","write_key"\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('lists every variable of a command’s environment schema with whether it is required or its default', () => {
  const dlq = commands.find((c) => c.name === 'dlq list')!;
  expect(environmentList(dlq.environment!)).toEqual(['REDIS_URL (required)', 'STREAM_SHARDS (default 4)']);
});
