// Makes sure the binaries the tests and `make dev` need (redis-server, PostgreSQL) are present,
// installing them with apt-get when running as root on Debian/Ubuntu.
import { ensureBinaries, isDockerAvailable, MissingBinariesError } from '@eap/local-services';

try {
  const found = await ensureBinaries();
  console.log(`redis-server: ${found.redisServer}\npostgres:     ${found.postgresBin}`);
} catch (error) {
  if (error instanceof MissingBinariesError && (await isDockerAvailable())) {
    console.log('Redis/PostgreSQL binaries missing; a Docker engine is available, so tests use testcontainers instead.');
  } else {
    console.error((error as Error).message);
    process.exit(1);
  }
}
