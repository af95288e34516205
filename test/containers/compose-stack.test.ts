import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '@eap/local-services';
import { docker, imagesEnv, REPO_ROOT, TEST_PROJECT_PREFIX } from '../support/docker.ts';
import { waitFor } from '../support/test-api.ts';

// The docker compose stack as users start it (`make compose-up`: docker-compose.yml with this
// machine's images), on ports of its own, under a project name of its own, then brought down.

const project = `${TEST_PROJECT_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
const adminToken = randomBytes(12).toString('hex');
const readerPassword = randomBytes(12).toString('hex');
let env: Record<string, string>;
let apiUrl: string;
let queryUrl: string;
let prometheusUrl: string;

async function compose(args: readonly string[], timeoutMs = 300_000): Promise<string> {
  return docker(['compose', '--project-directory', REPO_ROOT, '-p', project, ...args], timeoutMs, env);
}

async function sql(query: string): Promise<string> {
  return (await compose(['exec', '-T', 'postgres', 'psql', '-U', 'eap', '-d', 'eap', '-tAc', query], 60_000)).trim();
}

/** psql as Grafana's datasource logs in (grafana_reader, password over TCP); each `-c` its own transaction. */
async function sqlAsGrafana(...commands: string[]): Promise<{ ok: boolean; output: string }> {
  const args = ['exec', '-T', '-e', `PGPASSWORD=${readerPassword}`, 'postgres', 'psql', '-h', '127.0.0.1', '-U', 'grafana_reader'];
  const psql = [...args, '-d', 'eap', '-v', 'ON_ERROR_STOP=1', '-tA', ...commands.flatMap((c) => ['-c', c])];
  try {
    return { ok: true, output: (await compose(psql, 60_000)).trim() };
  } catch (error) {
    return { ok: false, output: String(error) };
  }
}

async function storedEvents(projectId: string): Promise<number> {
  return Number(await sql(`SELECT count(*) FROM events WHERE project_id = '${projectId}'`));
}

async function createProject(name: string): Promise<{ project_id: string; write_key: string; read_key: string }> {
  const res = await fetch(`${apiUrl}/v1/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { project_id: string; write_key: string; read_key: string };
}

/** Posts `batches` batches of `size` events; returns how many the API accepted (all, or the test fails). */
async function sendBatches(writeKey: string, batches: number, size: number, tag: string): Promise<number> {
  let accepted = 0;
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: size }, (_, i) => ({ event: 'page_view', distinct_id: `${tag}-${b}-${i}`, properties: { b, i } }));
    const res = await fetch(`${apiUrl}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    const body = (await res.json()) as { accepted: number };
    expect(res.status, JSON.stringify(body)).toBe(202);
    accepted += body.accepted;
  }
  return accepted;
}

interface PromResponse {
  status: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
  error?: string;
}

async function promQuery(expr: string): Promise<PromResponse> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as PromResponse;
}

/** Every PromQL expression behind a Grafana panel and every alert rule the project ships. */
function shippedPromql(): { where: string; expr: string }[] {
  const found: { where: string; expr: string }[] = [];
  for (const file of ['pipeline-health.json', 'product-overview.json']) {
    const dashboard = JSON.parse(readFileSync(`${REPO_ROOT}deploy/grafana/dashboards/${file}`, 'utf8'));
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) if (target.expr) found.push({ where: `${file}: ${panel.title}`, expr: target.expr });
    }
  }
  const rules = parse(readFileSync(`${REPO_ROOT}deploy/prometheus/alerts.yml`, 'utf8'));
  for (const group of rules.groups) for (const rule of group.rules) found.push({ where: `alert ${rule.alert}`, expr: rule.expr });
  return found;
}

/** The published ports, each a free loopback port picked now. */
async function pickPorts(): Promise<Record<string, number>> {
  const names = [
    'EAP_API_PORT',
    'EAP_API_ADMIN_PORT',
    'EAP_WORKER_ADMIN_PORT',
    'EAP_QUERY_PORT',
    'EAP_QUERY_ADMIN_PORT',
    'PROMETHEUS_PORT',
    'GRAFANA_PORT',
  ];
  const ports: Record<string, number> = {};
  for (const name of names) ports[name] = await freePort();
  return ports;
}

const PORT_TAKEN = /port is already allocated|address already in use/i;

beforeAll(async () => {
  // A port found free can be taken before Docker binds it (by any outgoing connection of the
  // tests running beside this one, which draw from the same range): then the stack comes down
  // and up again on new ports, up to three times.
  for (let attempt = 1; ; attempt++) {
    const ports = await pickPorts();
    env = {
      ...imagesEnv(),
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
      EAP_ADMIN_TOKEN: adminToken,
      GRAFANA_DB_PASSWORD: readerPassword,
    };
    apiUrl = `http://127.0.0.1:${ports.EAP_API_PORT}`;
    queryUrl = `http://127.0.0.1:${ports.EAP_QUERY_PORT}`;
    prometheusUrl = `http://127.0.0.1:${ports.PROMETHEUS_PORT}`;
    try {
      // --no-build: the images are the ones `make images` built (the global setup checked them).
      await compose(['up', '-d', '--wait', '--no-build'], 480_000);
      return;
    } catch (error) {
      if (attempt >= 3 || !PORT_TAKEN.test(String(error))) throw error;
      await compose(['down', '--volumes', '--remove-orphans', '--timeout', '30'], 180_000);
    }
  }
});

afterAll(async () => {
  if (env) await compose(['down', '--volumes', '--remove-orphans', '--timeout', '30'], 180_000);
});

describe('docker compose stack', () => {
  it('runs every service of the file, and the migration ran once and exited 0', async () => {
    const services = (await compose(['ps', '--all', '--format', '{{.Service}} {{.State}} {{.ExitCode}}'])).trim().split('\n').sort();
    const expected = [
      'api running 0',
      'grafana-db-role exited 0',
      'migrate exited 0',
      'postgres running 0',
      'prometheus running 0',
      'query running 0',
      'redis running 0',
      'worker running 0',
    ];
    if (env.GRAFANA_REPLICAS !== '0') expected.push('grafana running 0');
    expect(services).toEqual(expected.sort());
    expect(Number(await sql('SELECT count(*) FROM schema_migrations'))).toBeGreaterThan(0);
    // Redis refuses writes at its memory ceiling rather than evicting or growing without bound.
    const redisConfig = await compose(['exec', '-T', 'redis', 'redis-cli', 'CONFIG', 'GET', 'maxmemory*'], 60_000);
    expect(redisConfig.trim().split('\n')).toEqual(
      expect.arrayContaining(['maxmemory', String(1024 ** 3), 'maxmemory-policy', 'noeviction']),
    );
  });

  it('stores every event posted to the published port, and loses none while the worker restarts', async () => {
    const { project_id, write_key } = await createProject('compose-e2e');
    let accepted = await sendBatches(write_key, 5, 100, 'before');
    await waitFor(async () => (await storedEvents(project_id)) === accepted, 60_000, `${accepted} rows stored`);
    expect(await storedEvents(project_id)).toBe(accepted);

    // Load while the worker container restarts (SIGTERM, drain, start): the API keeps
    // accepting, the backlog waits in Redis, the restarted worker stores it.
    let restarted = false;
    const restart = compose(['restart', 'worker'], 120_000).then(() => {
      restarted = true;
    });
    let during = 0;
    for (let round = 0; !restarted || round < 10; round++) {
      during += await sendBatches(write_key, 1, 100, `during-${round}`);
    }
    await restart;
    accepted += during + (await sendBatches(write_key, 10, 100, 'after'));
    await waitFor(async () => (await storedEvents(project_id)) >= accepted, 120_000, `${accepted} rows stored after the restart`);
    expect(await storedEvents(project_id)).toBe(accepted);
    expect(Number(await sql(`SELECT count(DISTINCT distinct_id) FROM events WHERE project_id = '${project_id}'`))).toBe(accepted);
  });

  it('answers queries on the query service; the ingest API points there', async () => {
    const { project_id, write_key, read_key } = await createProject('compose-query');
    const accepted = await sendBatches(write_key, 3, 100, 'query');
    await waitFor(async () => (await storedEvents(project_id)) === accepted, 60_000, `${accepted} rows stored`);
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const trends = { events: ['page_view'], from, to, interval: 'day', breakdown: 'b' };
    const ask = (base: string) =>
      fetch(`${base}/v1/query/trends`, {
        method: 'POST',
        headers: { authorization: `Bearer ${read_key}`, 'content-type': 'application/json' },
        body: JSON.stringify(trends),
      });
    const answer = await ask(queryUrl);
    expect(answer.status).toBe(200);
    const { series } = (await answer.json()) as { series: { breakdown_value: string; points: { value: number }[] }[] };
    const total = series.flatMap((s) => s.points).reduce((sum, p) => sum + p.value, 0);
    expect(total).toBe(Number(await sql(`SELECT count(*) FROM events WHERE project_id = '${project_id}'`)));
    expect(series.map((s) => s.breakdown_value).sort()).toEqual(['0', '1', '2']);
    const elsewhere = await ask(apiUrl);
    expect(elsewhere.status).toBe(404);
    expect(((await elsewhere.json()) as { error: { message: string } }).error.message).toContain('API_SERVE=query');
    // And the query service takes no events.
    const refused = await fetch(`${queryUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${write_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'x', distinct_id: 'u' }),
    });
    expect(refused.status).toBe(404);
  });

  it('is scraped by Prometheus: every EAP target is up', async () => {
    await waitFor(
      async () => {
        const up = await promQuery('up');
        const jobs = (up.data?.result ?? []).filter((r) => r.value?.[1] === '1').map((r) => r.metric.job);
        return jobs.includes('eap-api') && jobs.includes('eap-worker') && jobs.includes('eap-query');
      },
      60_000,
      'eap-api, eap-query and eap-worker up == 1',
    );
    const config = parse(readFileSync(`${REPO_ROOT}deploy/prometheus/prometheus.yml`, 'utf8'));
    const up = await promQuery('up');
    expect(up.data?.result.map((r) => `${r.metric.job} ${r.value?.[1]}`).sort()).toEqual(
      config.scrape_configs.map((c: { job_name: string }) => `${c.job_name} 1`).sort(),
    );
  });

  it('answers every PromQL expression of the dashboards and alert rules with a well-formed result', async () => {
    // Rates need traffic across two scrapes (interval 10 s): send some until both show it.
    const { write_key } = await createProject('compose-promql');
    const rateOf = async (expr: string) => Number((await promQuery(expr)).data?.result[0]?.value?.[1] ?? 0);
    const rates = ['sum(rate(eap_api_events_accepted_total[1m]))', 'sum(rate(eap_worker_events_written_total[1m]))'];
    let sending = true;
    const traffic = (async () => {
      for (let round = 0; sending; round++) {
        await sendBatches(write_key, 1, 20, `promql-${round}`);
        await new Promise((done) => setTimeout(done, 250));
      }
    })();
    try {
      await waitFor(
        async () => (await rateOf(rates[0] as string)) > 0 && (await rateOf(rates[1] as string)) > 0,
        90_000,
        'ingest and write rates above zero',
      );
    } finally {
      sending = false;
      await traffic;
    }
    const expressions = shippedPromql();
    expect(expressions.length).toBeGreaterThan(15);
    const failures: string[] = [];
    for (const { where, expr } of expressions) {
      const answer = await promQuery(expr);
      const wellFormed =
        answer.status === 'success' &&
        ['vector', 'scalar', 'matrix'].includes(answer.data?.resultType ?? '') &&
        Array.isArray(answer.data?.result);
      if (!wellFormed) failures.push(`${where}: ${expr} → ${answer.error ?? JSON.stringify(answer)}`);
    }
    expect(failures).toEqual([]);
    // The panels a user looks at first (ingest and write rates) are among them.
    for (const expr of rates) expect(expressions.map((e) => e.expr)).toContain(expr);
  });

  it("gives Grafana's PostgreSQL role every dashboard query and nothing else: no writes, no api_keys", async () => {
    const { project_id } = await createProject('compose-grafana-role');
    const dashboard = JSON.parse(readFileSync(`${REPO_ROOT}deploy/grafana/dashboards/product-overview.json`, 'utf8'));
    const queries: { where: string; sql: string }[] = [
      ...dashboard.templating.list.map((v: { name: string; query: string }) => ({ where: `variable ${v.name}`, sql: v.query })),
      ...dashboard.panels.flatMap((panel: { title: string; targets?: { rawSql?: string }[] }) =>
        (panel.targets ?? []).filter((t) => t.rawSql).map((t) => ({ where: panel.title, sql: t.rawSql as string })),
      ),
    ];
    expect(queries.length).toBeGreaterThanOrEqual(4);
    // Grafana's macros, expanded as Grafana expands them for the PostgreSQL datasource.
    const [from, to] = [new Date(Date.now() - 86_400_000).toISOString(), new Date().toISOString()];
    const expand = (query: string) =>
      query
        .replace(/\$__timeFilter\(([^)]+)\)/g, `$1 BETWEEN '${from}' AND '${to}'`)
        .replaceAll('$__timeFrom()', `'${from}'`)
        .replaceAll('$__timeTo()', `'${to}'`)
        .replaceAll('$project', project_id);
    for (const { where, sql } of queries) {
      const answer = await sqlAsGrafana(expand(sql));
      expect(answer.ok, `${where}: ${answer.output}`).toBe(true);
    }
    expect((await sqlAsGrafana(`SELECT name FROM projects WHERE id = '${project_id}'`)).output).toBe('compose-grafana-role');

    // Refused by the grants themselves, also with the role's read-only default turned off.
    const readWrite = 'SET default_transaction_read_only = off';
    for (const statement of [
      "INSERT INTO projects (name) VALUES ('grafana')",
      "UPDATE projects SET name = 'grafana'",
      'DELETE FROM event_counts_hourly',
      'UPDATE event_user_days SET day = day',
      'TRUNCATE event_counts_hourly',
      'SELECT count(*) FROM api_keys',
      'SELECT count(*) FROM events',
      'CREATE TABLE grafana_was_here (id int)',
    ]) {
      const answer = await sqlAsGrafana(readWrite, statement);
      expect(answer.ok, statement).toBe(false);
      expect(answer.output, statement).toMatch(/permission denied/);
    }
    expect(Number(await sql("SELECT count(*) FROM projects WHERE name = 'grafana'"))).toBe(0);
  });
});
