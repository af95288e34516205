import { ConfigError, createLogger } from '@eap/core';
import { identityOf, loadOperatorConfig } from './config.ts';
import { loadKubeConfig, NoClusterError } from './kube-config-loader.ts';
import { createOperator } from './operator.ts';
import { operatorHelp, parseOperatorArgs } from './usage.ts';

/**
 * `eap-operator`: reconciles EventPipelines until SIGTERM/SIGINT (then hands the leader Lease
 * over), or until leadership is lost or its caches cannot sync (then exits 1, so Kubernetes
 * restarts it as a standby).
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const args = parseOperatorArgs(argv);
  if (args.command === 'help') {
    process.stdout.write(operatorHelp());
    return 0;
  }
  if (args.command === 'usage-error') {
    process.stderr.write(`eap-operator: ${args.message}\n\n${operatorHelp()}`);
    return 2;
  }
  let config: ReturnType<typeof loadOperatorConfig>;
  try {
    config = loadOperatorConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'eap-operator', base: { identity: identityOf(config) } });
  let kubeConfig: ReturnType<typeof loadKubeConfig>;
  try {
    kubeConfig = loadKubeConfig();
  } catch (error) {
    // No cluster to talk to (no ServiceAccount, KUBECONFIG unreadable): say so and exit, not a stack trace.
    if (!(error instanceof NoClusterError)) throw error;
    process.stderr.write(`eap-operator: cannot connect to Kubernetes: ${error.message}\n`);
    return 1;
  }
  const operator = createOperator({ config, kubeConfig, logger });
  await operator.start();
  const outcome = await Promise.race([
    new Promise<'signal'>((resolve) => {
      process.once('SIGTERM', () => resolve('signal'));
      process.once('SIGINT', () => resolve('signal'));
    }),
    operator.ended.then((end) => end.reason),
  ]);
  const hardStop = setTimeout(() => process.exit(1), 20_000).unref();
  await operator.stop();
  clearTimeout(hardStop);
  logger.info({ outcome }, 'stopped');
  return outcome === 'signal' ? 0 : 1;
}
