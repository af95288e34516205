// Makes sure the binaries `make dev` (without a Docker engine) and the benchmarks need
// (redis-server, PostgreSQL) are present, installing them with apt-get when running as root on
// Debian/Ubuntu. Most tests run Redis and PostgreSQL as containers; `make test` runs this too, so
// the tests of those local servers (packages/local-services) run rather than skip.
import { ensureBinaries, MissingBinariesError } from '@eap/local-services';
import { engineVersion } from './containers/engine.ts';

try {
  const found = await ensureBinaries();
  console.log(`redis-server: ${found.redisServer}\npostgres:     ${found.postgresBin}`);
} catch (error) {
  if (error instanceof MissingBinariesError && (await engineVersion()) !== undefined) {
    console.log(
      'Redis/PostgreSQL binaries missing; a Docker engine is available, so `make dev` uses docker compose (the benchmarks need the binaries).',
    );
  } else {
    console.error((error as Error).message);
    process.exit(1);
  }
}
