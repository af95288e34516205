import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` needs nothing running; `integration` (files `*.int.test.ts` and the
 * end-to-end and fault tests under test/) gets private Redis and PostgreSQL servers started by
 * test/support/global-setup.ts. `make test-fast` runs only `unit`.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.int.test.ts', 'services/*/src/**/*.int.test.ts', 'test/**/*.test.ts'],
          // Kubernetes tests need the API server environment of their own project.
          exclude: ['**/node_modules/**', 'test/k8s/**'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
