export type { LocalService, LocalStack } from './types.ts';
export { freePort } from './free-port.ts';
export { type RedisOptions, startRedis } from './redis-server.ts';
export { pingRedis } from './redis-probe.ts';
export { type PostgresOptions, startPostgres } from './postgres-server.ts';
export {
  type EnsureBinariesOptions,
  ensureBinaries,
  findPostgresBinDir,
  findRedisServer,
  type LocalBinaries,
  MissingBinariesError,
} from './binaries.ts';
export { type LocalStackOptions, startLocalStack } from './local-stack.ts';
export { type CommandResult, describeCommandFailure, runCommand } from './run-command.ts';
export { EAP_BIN, exited, runEap, spawnEap } from './eap-process.ts';
export { isPidGone } from './process-tree.ts';
export { ensureChromium, findChromium } from './chromium.ts';
