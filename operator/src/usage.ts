import { OperatorConfigSchema } from './config.ts';

/**
 * The operator's command line. It takes no arguments (its environment configures it); `--help`,
 * `-h` or `help` print the usage, anything else is a usage error (exit code 2).
 */
export type OperatorArgs = { command: 'run' } | { command: 'help' } | { command: 'usage-error'; message: string };

export function parseOperatorArgs(argv: readonly string[]): OperatorArgs {
  const [first] = argv;
  if (first === undefined) return { command: 'run' };
  if (first === '--help' || first === '-h' || first === 'help') return { command: 'help' };
  return { command: 'usage-error', message: `unknown argument "${first}" (the operator is configured by its environment)` };
}

/** The usage text: what the operator does and the environment variables of its config schema. */
export function operatorHelp(): string {
  const variables = Object.entries(OperatorConfigSchema.shape).map(([name, schema]) => ({ name, description: schema.description ?? '' }));
  const width = Math.max(...variables.map((variable) => variable.name.length)) + 2;
  return `eap-operator — reconciles EventPipelines (migrations, API and worker Deployments, autoscaling, monitoring)

Usage: eap-operator [--help]

Runs until SIGTERM/SIGINT. It takes no arguments: the environment configures it. It finds
its cluster as kubectl does: KUBECONFIG (one or more files), else ~/.kube/config, else the
pod's ServiceAccount. /livez and /readyz on METRICS_PORT say whether it works and does its part.

Environment:
${variables.map((variable) => `  ${variable.name.padEnd(width)}${variable.description}`).join('\n')}
`;
}
