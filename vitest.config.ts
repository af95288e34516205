import { defineConfig } from 'vitest/config';

/**
 * Five projects: `unit` needs nothing running; `integration` (files `*.int.test.ts` and the
 * end-to-end and fault tests under test/) gets Redis and PostgreSQL containers from
 * testcontainers (test/support/global-setup.ts); `containers` runs the project's images and the
 * docker compose stack (test/containers/, images from `make images`); `kind` runs the README's
 * Kubernetes path on a real kind cluster with real pods (test/kind/); `k8s` gets a real
 * kube-apiserver, controller-manager and etcd from test/k8s/global-setup.ts (binaries built by
 * `make k8s-tools`). `make test-fast` runs only `unit`.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // test/*.unit.test.ts: checks of repository files (manifests, configs) that need no server.
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'operator/src/**/*.test.ts',
            'bench/**/*.test.ts',
            'scripts/**/*.test.ts',
            'test/*.unit.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'packages/*/src/**/*.int.test.ts',
            'services/*/src/**/*.int.test.ts',
            'operator/src/**/*.int.test.ts',
            'test/**/*.test.ts',
          ],
          // Kubernetes tests need the API server environment of their own project.
          exclude: ['**/node_modules/**', 'test/k8s/**', 'test/containers/**', 'test/kind/**', 'test/*.unit.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // The images (make images), run as containers: each image on its own, and the docker
          // compose stack end to end.
          name: 'containers',
          include: ['test/containers/**/*.test.ts'],
          globalSetup: ['test/containers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          // A real kind cluster (make kind-up kind-load deploy): real pods of the images, the
          // operator from its chart, end-to-end scenarios. One file at a time: they share it.
          name: 'kind',
          include: ['test/kind/**/*.test.ts'],
          globalSetup: ['test/kind/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
      {
        test: {
          name: 'k8s',
          include: ['test/k8s/**/*.test.ts'],
          globalSetup: ['test/k8s/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
