// Builds docs/configuration.md from the zod schemas that validate each process's environment.
// The schemas are the one source of truth: the description of each variable is its
// `.describe()` text, its default and allowed values are what the schema enforces.
import { ApiConfigSchema } from '@eap/api';
import { NATIVE_ENV, NODE_COMMAND_FLAGS, nodeCommandFlags, RECOMMENDED_NODE_OPTIONS, SHARED_VARS } from '@eap/core';
import { WorkerConfigSchema } from '@eap/worker';
import { z } from 'zod';
import { OperatorConfigSchema } from '../../operator/src/config.ts';
import { DatabaseConfigSchema, DlqConfigSchema, SeedConfigSchema } from '../../services/cli/src/config.ts';
import { code, generatedNotice, table } from './markdown.ts';

type Field = z.ZodType;

/** A process (or a group of CLI commands) and the schema it parses its environment with. */
export interface ConfiguredProcess {
  commands: string[];
  /** What it is, in a few words. */
  title: string;
  schema: z.ZodObject;
  /** Where the schema is defined, for readers who want the code. */
  source: string;
}

export const CONFIGURED_PROCESSES: ConfiguredProcess[] = [
  { commands: ['eap api'], title: 'the ingest API', schema: ApiConfigSchema, source: 'services/api/src/config.ts' },
  { commands: ['eap worker'], title: 'stream → PostgreSQL worker', schema: WorkerConfigSchema, source: 'services/worker/src/config.ts' },
  {
    commands: ['eap migrate', 'eap project', 'eap key'],
    title: 'migrations, projects and keys',
    schema: DatabaseConfigSchema,
    source: 'services/cli/src/config.ts',
  },
  { commands: ['eap dlq'], title: 'the dead-letter stream', schema: DlqConfigSchema, source: 'services/cli/src/config.ts' },
  { commands: ['eap seed'], title: 'simulated traffic', schema: SeedConfigSchema, source: 'services/cli/src/config.ts' },
  {
    commands: ['eap-operator'],
    title: 'the Kubernetes operator (set by its Helm chart)',
    schema: OperatorConfigSchema,
    source: 'operator/src/config.ts',
  },
];

const SHARED = SHARED_VARS as Record<string, Field>;

/** A variable as the reference shows it. */
export interface VariableDoc {
  name: string;
  default: string;
  allowed: string;
  description: string;
}

const number = (n: number) => n.toLocaleString('en-US');

/** Default, allowed values and description of one variable, read from its schema. */
export function describeVariable(name: string, field: Field): VariableDoc {
  const json = z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as {
    type?: string;
    default?: unknown;
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    enum?: unknown[];
  };
  const meta = (field.meta() ?? {}) as { protocols?: string[] };
  let allowed: string;
  if (meta.protocols) allowed = `URL: ${meta.protocols.map((p) => code(`${p}//`)).join(' or ')}`;
  else if (json.enum) allowed = json.enum.map((v) => code(String(v))).join(', ');
  else if (json.type === 'integer' || json.type === 'number') {
    const kind = json.type === 'integer' ? 'integer' : 'number';
    if (json.minimum !== undefined && json.maximum !== undefined) allowed = `${kind}, ${number(json.minimum)} to ${number(json.maximum)}`;
    else if (json.minimum !== undefined) allowed = `${kind} >= ${number(json.minimum)}`;
    else if (json.maximum !== undefined) allowed = `${kind} <= ${number(json.maximum)}`;
    else allowed = kind;
  } else if (json.type === 'string') {
    const { minLength: min, maxLength: max } = json;
    if (min !== undefined && max !== undefined) allowed = `string, ${min} to ${max} characters`;
    else if (min !== undefined) allowed = `string, at least ${min} characters`;
    else if (max !== undefined) allowed = `string, at most ${max} characters`;
    else allowed = 'string';
  } else throw new Error(`${name}: no way to describe a ${json.type ?? 'schema without a type'}; extend describeVariable`);

  const description = field.description?.trim();
  if (!description) throw new Error(`${name} has no description: add .describe('…') to its schema`);
  const defaultValue = json.default !== undefined ? code(String(json.default)) : field.isOptional() ? 'unset' : '**required**';
  return { name, default: defaultValue, allowed, description };
}

const commandList = (commands: string[]) => commands.map(code).join(', ');

/** The commands whose schema reads the shared variable `name` as defined in SHARED_VARS. */
function readersOf(name: string): string[] {
  return CONFIGURED_PROCESSES.filter((p) => p.schema.shape[name] === SHARED[name]).flatMap((p) => p.commands);
}

/** The whole reference document. */
export function buildConfigReference(processes: ConfiguredProcess[] = CONFIGURED_PROCESSES): string {
  const out: string[] = [
    generatedNotice('scripts/generate-config-reference.ts', 'the zod config schemas'),
    '',
    '# Configuration reference',
    '',
    'Every EAP process is configured with environment variables, read and validated once at start by a zod schema.',
    'A bad configuration lists every bad variable and exits 1; an empty value counts as unset. The process reads',
    'only the variables of its own schema: anything else in its environment is ignored.',
    '',
    'This page is generated from those schemas (each variable is documented by its `.describe()` text; the',
    'default and allowed values are what the schema enforces). To change it, change the schema and run `make docs`.',
    '',
    '## Shared variables',
    '',
    'Defined once (`SHARED_VARS` in `packages/core/src/config.ts`) so every process reads them the same way;',
    '`STREAM_SHARDS` in particular must be the same for the API, every worker and `eap dlq`.',
    '',
    table(
      ['variable', 'default', 'allowed', 'read by', 'description'],
      Object.entries(SHARED).map(([name, field]) => {
        const doc = describeVariable(name, field);
        return [code(name), doc.default, doc.allowed, commandList(readersOf(name)), doc.description];
      }),
    ),
  ];

  for (const process of processes) {
    const shared = Object.keys(process.schema.shape).filter((name) => process.schema.shape[name] === SHARED[name]);
    const own = Object.entries(process.schema.shape as Record<string, Field>).filter(([name]) => !shared.includes(name));
    out.push('', `## ${process.commands.map(code).join(', ')}: ${process.title}`, '');
    const sharedList = shared.map(code).join(', ');
    const intro =
      own.length === 0
        ? `It reads only the shared ${sharedList}.`
        : shared.length === 0
          ? 'It reads no shared variable, only:'
          : `Besides the shared ${sharedList}, it reads:`;
    out.push(`Schema in \`${process.source}\`. ${intro}`);
    if (own.length > 0) {
      out.push('');
      out.push(
        table(
          ['variable', 'default', 'allowed', 'description'],
          own.map(([name, field]) => {
            const doc = describeVariable(name, field);
            return [code(name), doc.default, doc.allowed, doc.description];
          }),
        ),
      );
    }
  }

  out.push(
    '',
    '## Node.js heap settings',
    '',
    '`NODE_OPTIONS` is read by Node itself. Each process should run with the V8 heap settings measured for its',
    'working set (`RECOMMENDED_NODE_OPTIONS` in `packages/core/src/node-options.ts`; `docker-compose.yml` and the',
    'benchmark use them, see `benchmarks/README.md`):',
    '',
    table(
      ['process', '`NODE_OPTIONS`'],
      Object.entries(RECOMMENDED_NODE_OPTIONS).map(([name, options]) => [code(`eap ${name}`), code(options)]),
    ),
    '',
    `The image also starts \`node\` with ${NODE_COMMAND_FLAGS.map(code).join(' ')} (\`NODE_COMMAND_FLAGS\`), which`,
    '`NODE_OPTIONS` may not carry: each process keeps its young generation at the maximum above instead of',
    `letting it shrink under load. The worker also gets ${code(nodeCommandFlags('worker').at(-1)!)}`,
    '(`WORKER_OLD_SPACE_FLOOR_MIB`): its old generation grows that far before V8 starts a major garbage',
    "collection, which saved it a fifth of its CPU for 10-20 MiB more RSS. The image's entry point,",
    '`bin/eap-node.sh`, picks the flags by command. Run `eap` outside the image the same way: `node ' +
      nodeCommandFlags('worker').join(' ') +
      ' services/cli/bin/eap.js worker`, and without the last flag for the other commands.',
    '',
    `It also sets ${Object.entries(NATIVE_ENV)
      .map(([name, value]) => code(`${name}=${value}`))
      .join(' ')} (\`NATIVE_ENV\`): glibc then keeps at most two malloc arenas instead of one per allocating`,
    "thread, which lowered the API's RSS peak at full load by 5-13 MiB at the same CPU. Set it too when you run",
    '`eap` outside the image.',
    '',
  );
  return out.join('\n');
}
