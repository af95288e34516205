import { ConfigError, createLogger } from '@eap/core';
import { identityOf, loadOperatorConfig } from './config.ts';
import { KubeClient } from './kube/kube-client.ts';
import { loadConnection } from './kube/kube-config.ts';
import { createOperator } from './operator.ts';

/**
 * `eap-operator`: reconciles EventPipelines until SIGTERM/SIGINT (then hands the leader Lease
 * over) or until leadership is lost (then exits 1, so Kubernetes restarts it as a standby).
 */
export async function main(): Promise<number> {
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
  const kube = new KubeClient(loadConnection());
  const operator = createOperator({ config, kube, logger });
  await operator.start();
  const outcome = await Promise.race([
    new Promise<'signal'>((resolve) => {
      process.once('SIGTERM', () => resolve('signal'));
      process.once('SIGINT', () => resolve('signal'));
    }),
    operator.lostLeadership.then(() => 'lost' as const),
  ]);
  const hardStop = setTimeout(() => process.exit(1), 20_000).unref();
  await operator.stop();
  clearTimeout(hardStop);
  kube.close();
  logger.info({ outcome }, 'stopped');
  return outcome === 'lost' ? 1 : 0;
}
