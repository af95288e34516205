import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_MEMORY_LIMIT_MIB, nodeOptionsFor, RECOMMENDED_NODE_OPTIONS, REDIS_AOF_REWRITE_MIN_SIZE } from '@eap/core';
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
      'grafana-db-role',
      'migrate',
      'postgres',
      'prometheus',
      'query',
      'redis',
      'seed',
      'worker',
    ]);
    expect(compose.services.worker.command).toEqual(['worker']);
    expect(compose.services.worker.depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(compose.services.redis.command.join(' ')).toMatch(/--appendonly yes.*--maxmemory \d+[kmg]b --maxmemory-policy noeviction/);
    expect(compose.services.redis.command.join(' ')).toContain(`--auto-aof-rewrite-min-size ${REDIS_AOF_REWRITE_MIN_SIZE}`);
    expect(compose.services.redis.healthcheck).toBeDefined();
    expect(compose.services.postgres.healthcheck).toBeDefined();
    expect(compose.services.migrate.command).toEqual(['migrate', 'up']);
    expect(compose.services.api.depends_on.migrate.condition).toBe('service_completed_successfully');
  });

  it('serves ingest from `api` and queries from `query`, the same image in two processes', () => {
    expect(compose.services.api.environment.API_SERVE).toBe('ingest');
    expect(compose.services.query.environment.API_SERVE).toBe('query');
    expect(compose.services.query.image).toBe(compose.services.api.image);
    expect(compose.services.query.command).toEqual(['api']);
    // A query process needs PostgreSQL only, and serves no admin routes.
    expect(Object.keys(compose.services.query.depends_on)).toEqual(['migrate']);
    expect(compose.services.query.environment.EAP_ADMIN_TOKEN).toBe('');
    const defaults = compose.services.query.ports.map((port: string) => port.replace(/\$\{[A-Z_]+:-(\d+)\}/, '$1'));
    expect(defaults).toEqual(['127.0.0.1:8001:8000', '127.0.0.1:9466:9464']);
    // The query process runs with the API's memory limit and heap.
    expect(compose.services.query.mem_limit).toBe(compose.services.api.mem_limit);
    expect(compose.services.query.environment.NODE_OPTIONS).toBe(compose.services.api.environment.NODE_OPTIONS);
  });

  it('sets only environment variables the config schemas know, and publishes the ports', () => {
    const known = [...Object.keys(ApiConfigSchema.shape), ...Object.keys(WorkerConfigSchema.shape), 'NODE_OPTIONS'];
    for (const name of ['api', 'query', 'migrate', 'worker', 'seed']) {
      for (const variable of Object.keys(compose.services[name].environment)) expect(known, `${name}: ${variable}`).toContain(variable);
    }
    // Host ports are variables (the container tests move them); their defaults are the documented ones.
    const defaults = compose.services.api.ports.map((port: string) => port.replace(/\$\{[A-Z_]+:-(\d+)\}/, '$1'));
    expect(defaults).toEqual(['127.0.0.1:8000:8000', '127.0.0.1:9464:9464']);
    for (const [name, service] of Object.entries<{ ports?: string[] }>(compose.services)) {
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('runs each service with the shipped memory limit and the V8 heap derived from it', () => {
    for (const name of ['api', 'worker'] as const) {
      expect(compose.services[name].mem_limit, name).toBe(`${DEFAULT_MEMORY_LIMIT_MIB[name]}m`);
      expect(compose.services[name].environment.NODE_OPTIONS, name).toBe(nodeOptionsFor(name, DEFAULT_MEMORY_LIMIT_MIB[name]));
      expect(compose.services[name].environment.NODE_OPTIONS, name).toBe(RECOMMENDED_NODE_OPTIONS[name]);
    }
  });

  it('accepts its printed admin token only on the API, which it tells explicitly that this is a demo', () => {
    expect(compose.services.api.environment.EAP_ALLOW_DEMO_TOKEN).toBe('true');
    for (const name of ['migrate', 'query', 'worker', 'seed'])
      expect(compose.services[name].environment.EAP_ALLOW_DEMO_TOKEN, name).toBeUndefined();
  });

  it('gives anonymous Grafana visitors Viewer at most, and the PostgreSQL datasource a read-only role', () => {
    const grafana = compose.services.grafana.environment;
    expect(grafana.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
    expect(grafana.GF_USERS_ALLOW_SIGN_UP).toBe('false');
    expect(Object.values(grafana).join(' ')).not.toMatch(/\b(Admin|Editor)\b/);
    expect(grafana.GF_USERS_VIEWERS_CAN_EDIT ?? 'false').toBe('false');

    const datasources = parse(readFileSync(new URL('../deploy/grafana/provisioning/datasources/datasources.yml', import.meta.url), 'utf8'));
    const postgres = datasources.datasources.find((d: { type: string }) => d.type === 'grafana-postgresql-datasource');
    expect(postgres.user).toBe('grafana_reader');
    expect(postgres.secureJsonData.password).toBe('$GRAFANA_DB_PASSWORD');
    expect(grafana.GRAFANA_DB_PASSWORD).toBeDefined();
    // The role exists before Grafana starts: made after the migrations, from the SQL file.
    expect(compose.services.grafana.depends_on['grafana-db-role'].condition).toBe('service_completed_successfully');
    expect(compose.services['grafana-db-role'].depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(compose.services['grafana-db-role'].volumes).toEqual(['./deploy/postgres/grafana-reader.sql:/sql/grafana-reader.sql:ro']);
  });

  it("grants Grafana's role SELECT on exactly the tables the dashboards query, and nothing else", () => {
    const sql = readFileSync(new URL('../deploy/postgres/grafana-reader.sql', import.meta.url), 'utf8').replace(/--.*$/gm, '');
    const grants = [...sql.matchAll(/GRANT\s+([^;]+?)\s+ON\s+([^;]+?)\s+TO\s+grafana_reader/gi)].map(
      (m) => [m[1]!.trim(), m[2]!.trim()] as const,
    );
    const tables = new Set<string>();
    for (const [privilege, on] of grants) {
      if (/^(CONNECT|USAGE)$/i.test(privilege)) continue;
      expect(privilege, on).toMatch(/^SELECT( \([\w, ]+\))?$/);
      for (const table of on.split(',')) tables.add(table.trim());
    }
    const dashboard = JSON.parse(readFileSync(new URL('../deploy/grafana/dashboards/product-overview.json', import.meta.url), 'utf8'));
    const queries: string[] = [
      ...dashboard.templating.list.map((v: { query: string }) => v.query),
      ...dashboard.panels.flatMap((p: { targets?: { rawSql?: string }[] }) => (p.targets ?? []).map((t) => t.rawSql ?? '')),
    ].map((q) => q.replace(/--.*$/gm, ''));
    const queried = new Set(queries.flatMap((q) => [...q.matchAll(/\b(?:FROM|JOIN)\s+([a-z_]+)/gi)].map((m) => m[1]!)));
    expect([...tables].sort()).toEqual([...queried].sort());
    expect(tables.has('api_keys')).toBe(false);
  });
});
