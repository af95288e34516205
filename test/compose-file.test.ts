import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import { ApiConfigSchema } from '@eap/api';
import { WorkerConfigSchema } from '@eap/worker';

// What can be checked without running the compose file (test/containers/compose-stack.test.ts
// runs it): its services and their order, that every variable it sets is one the code reads, and
// that it publishes ports on loopback only.
// `merge: true` resolves the `<<: *eap-env` merge keys as Compose does.
const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true });

describe('docker-compose.yml', () => {
  it('runs redis (AOF, noeviction), postgres, a one-shot migrate, then the api and the worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'grafana',
      'migrate',
      'postgres',
      'prometheus',
      'redis',
      'seed',
      'worker',
    ]);
    expect(compose.services.worker.command).toEqual(['worker']);
    expect(compose.services.worker.depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(compose.services.redis.command.join(' ')).toMatch(/--appendonly yes.*--maxmemory-policy noeviction/);
    expect(compose.services.redis.healthcheck).toBeDefined();
    expect(compose.services.postgres.healthcheck).toBeDefined();
    expect(compose.services.migrate.command).toEqual(['migrate', 'up']);
    expect(compose.services.api.depends_on.migrate.condition).toBe('service_completed_successfully');
  });

  it('sets only environment variables the config schemas know, and publishes the ports', () => {
    const known = [...Object.keys(ApiConfigSchema.shape), ...Object.keys(WorkerConfigSchema.shape), 'NODE_OPTIONS'];
    for (const name of ['api', 'migrate', 'worker', 'seed']) {
      for (const variable of Object.keys(compose.services[name].environment)) expect(known, `${name}: ${variable}`).toContain(variable);
    }
    // Host ports are variables (the container tests move them); their defaults are the documented ones.
    const defaults = compose.services.api.ports.map((port: string) => port.replace(/\$\{[A-Z_]+:-(\d+)\}/, '$1'));
    expect(defaults).toEqual(['127.0.0.1:8000:8000', '127.0.0.1:9464:9464']);
    for (const [name, service] of Object.entries<{ ports?: string[] }>(compose.services)) {
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('runs each service with the recommended V8 heap settings', () => {
    expect(compose.services.api.environment.NODE_OPTIONS).toBe(RECOMMENDED_NODE_OPTIONS.api);
    expect(compose.services.worker.environment.NODE_OPTIONS).toBe(RECOMMENDED_NODE_OPTIONS.worker);
  });
});
