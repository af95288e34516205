import { configureTestcontainers, docker, imagesEnv, removeLeftovers } from '../support/docker.ts';

/**
 * The container tests need an engine and the images `make images` builds (make test runs it
 * first). Checks both, and removes what an interrupted earlier run left behind.
 */
export default async function setup() {
  configureTestcontainers();
  imagesEnv();
  for (const image of ['eap:dev', 'eap-operator:dev']) {
    await docker(['image', 'inspect', '--format', '{{.Id}}', image]).catch(() => {
      throw new Error(`image ${image} is missing: run \`make images\` first (make test does)`);
    });
  }
  await removeLeftovers();
}
