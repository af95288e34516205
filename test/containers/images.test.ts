/**
 * The two images `make images` builds, run as containers the way their users run them:
 *
 * - eap:dev: its help, its non-root user, `eap migrate up` against PostgreSQL;
 * - eap:dev as the operator's pods run it (args, environment, ports, probes, security context and
 *   grace period all taken from the Deployments packages/manifests builds) next to Redis and
 *   PostgreSQL on a private network: the compose file's health check, the probes, an event from
 *   the public port into PostgreSQL through a worker, and a clean exit on SIGTERM within the grace;
 * - eap-operator:dev: its help, its non-root user, and a prompt, clear failure without a cluster.
 *
 * Everything started here carries testLabels() and is stopped in afterAll (the reaper is off).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { runCommand } from '@eap/local-services';
import {
  buildApiDeployment,
  buildWorkerDeployment,
  EVENT_PIPELINE,
  EVENT_PIPELINE_API_VERSION,
  type EventPipeline,
  EventPipelineSpecSchema,
} from '@eap/manifests';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import pg from 'pg';
import { GenericContainer, Network, type StartedNetwork, type StartedTestContainer, StartupCheckStrategy, Wait } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { configureTestcontainers, docker, imageOf, REPO_ROOT, testLabels } from '../support/docker.ts';

configureTestcontainers();

const EAP_IMAGE = 'eap:dev';
const OPERATOR_IMAGE = 'eap-operator:dev';
/** Longest a one-shot command (help, `id`, a migration) may run before it counts as hanging. */
const ONE_SHOT_TIMEOUT_MS = 60_000;
const ADMIN_TOKEN = 'images-test-admin-token';
const DB = { user: 'eap', password: 'eap', database: 'eap' };
const DATABASE_URL = `postgres://${DB.user}:${DB.password}@postgres:5432/${DB.database}`;
const REDIS_URL = 'redis://redis:6379/0';

// ---------------------------------------------------------------------------------------------
// Running a container to its end

type DockerodeContainer = Parameters<StartupCheckStrategy['waitUntilReady']>[0];
type DockerodeClient = Parameters<StartupCheckStrategy['checkStartupState']>[0];

/**
 * Waits until the container has exited, whatever its exit code (testcontainers' one-shot
 * strategy removes a container that exits non-zero, and with it the exit code and the output).
 * A container still running after the startup timeout fails the start, and testcontainers
 * removes it.
 */
class UntilExited extends StartupCheckStrategy {
  override async checkStartupState(client: DockerodeClient, containerId: string) {
    const { State } = await client.getContainer(containerId).inspect();
    return State.Status === 'exited' ? ('SUCCESS' as const) : ('PENDING' as const);
  }

  override async waitUntilReady(container: DockerodeContainer): Promise<void> {
    const timeoutMs = this.getStartupTimeout();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`container ${container.id} still runs after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([container.wait(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

interface ContainerState {
  Status: string;
  ExitCode: number;
  OOMKilled: boolean;
}

async function inspectState(id: string): Promise<ContainerState> {
  const [inspected] = JSON.parse(await docker(['container', 'inspect', id])) as Array<{ State: ContainerState }>;
  if (!inspected) throw new Error(`docker inspect ${id}: no such container`);
  return inspected.State;
}

/** The container's stdout and stderr, apart (`docker logs` writes each to its own stream). */
async function logsOf(id: string): Promise<{ stdout: string; stderr: string }> {
  const logs = await runCommand('docker', ['logs', id]);
  if (logs.code !== 0) throw new Error(`docker logs ${id} failed: ${logs.stderr}`);
  return { stdout: logs.stdout, stderr: logs.stderr };
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Starts the container, waits until it exits (bounded), returns its exit code and output, removes it. */
async function runToExit(container: GenericContainer): Promise<RunResult> {
  const started = await container
    .withLabels(testLabels())
    .withWaitStrategy(new UntilExited())
    .withStartupTimeout(ONE_SHOT_TIMEOUT_MS)
    .start();
  try {
    const { ExitCode } = await inspectState(started.getId());
    return { exitCode: ExitCode, ...(await logsOf(started.getId())) };
  } finally {
    await started.stop();
  }
}

/** `eap <args>` in the platform image, with its own entrypoint. */
const eap = (args: string[], environment: Record<string, string> = {}, network?: StartedNetwork) => {
  const container = new GenericContainer(EAP_IMAGE).withCommand(args).withEnvironment(environment);
  return runToExit(network ? container.withNetwork(network) : container);
};

async function imageUser(image: string): Promise<string> {
  const [inspected] = JSON.parse(await docker(['image', 'inspect', image])) as Array<{ Config: { User: string } }>;
  return inspected?.Config.User ?? '';
}

/** `id -u` in the image as it runs by default (the entrypoint replaced, the user not). */
async function uidInImage(image: string): Promise<number> {
  const result = await runToExit(new GenericContainer(image).withEntrypoint(['id', '-u']));
  expect(result, result.stderr).toMatchObject({ exitCode: 0 });
  return Number(result.stdout.trim());
}

/** A Dockerfile USER that is root, or none (which is root). */
const isRootUser = (user: string) => /^(|root|0)(:.*)?$/.test(user);

// ---------------------------------------------------------------------------------------------
// The pods the operator creates, as containers

const pipeline: EventPipeline = {
  apiVersion: EVENT_PIPELINE_API_VERSION,
  kind: EVENT_PIPELINE.kind,
  metadata: { name: 'images-test', namespace: 'default' },
  spec: EventPipelineSpecSchema.parse({
    redis: { urlSecretRef: { name: 'redis' } },
    postgres: { urlSecretRef: { name: 'postgres' } },
    api: { adminTokenSecretRef: { name: 'admin' } },
  }),
};

interface HttpProbe {
  httpGet: { path: string; port: string | number };
  periodSeconds: number;
  failureThreshold?: number;
}

/** What this test reads of a pod template built by packages/manifests. */
interface PodTemplateSpec {
  terminationGracePeriodSeconds: number;
  containers: Array<{
    image: string;
    args: string[];
    env: Array<{ name: string; value?: string }>;
    ports: Array<{ name: string; containerPort: number }>;
    livenessProbe: HttpProbe;
    readinessProbe: HttpProbe;
    startupProbe: HttpProbe;
    securityContext: { readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
  }>;
}

/** A container started with the Docker equivalents of a pod's container securityContext. */
class PodContainer extends GenericContainer {
  withReadOnlyRootFilesystem(readOnly: boolean): this {
    this.hostConfig.ReadonlyRootfs = readOnly;
    return this;
  }
}

/** One pod of the operator's: its container, its ports by name, its probes and its grace period. */
function podOf(template: PodTemplateSpec, secretsAndFields: Record<string, string>) {
  const [spec] = template.containers;
  if (!spec) throw new Error('the pod template has no container');
  const ports = Object.fromEntries(spec.ports.map((port) => [port.name, port.containerPort]));
  const portOf = (port: string | number) => {
    const number = typeof port === 'number' ? port : ports[port];
    if (number === undefined) throw new Error(`a probe names the port ${port}, which the container does not declare`);
    return number;
  };
  const probes = (['livenessProbe', 'readinessProbe', 'startupProbe'] as const).map((kind) => ({
    kind,
    path: spec[kind].httpGet.path,
    port: portOf(spec[kind].httpGet.port),
  }));
  // Literal values as the manifests set them; Secret and downward-API values from the test.
  const environment = Object.fromEntries(
    spec.env.map(({ name, value }) => {
      const resolved = value ?? secretsAndFields[name];
      if (resolved === undefined) throw new Error(`the pod takes ${name} from a Secret or field the test does not provide`);
      return [name, resolved];
    }),
  );
  const readiness = probes.find((probe) => probe.kind === 'readinessProbe')!;
  const container = new PodContainer(spec.image)
    .withCommand(spec.args)
    .withEnvironment(environment)
    .withExposedPorts(...spec.ports.map((port) => port.containerPort))
    .withReadOnlyRootFilesystem(spec.securityContext.readOnlyRootFilesystem)
    .withDroppedCapabilities(...spec.securityContext.capabilities.drop)
    .withLabels(testLabels())
    // Started when the kubelet would send it traffic; given the time its startup probe allows.
    .withWaitStrategy(Wait.forHttp(readiness.path, readiness.port).forStatusCode(200))
    .withStartupTimeout(spec.startupProbe.periodSeconds * (spec.startupProbe.failureThreshold ?? 3) * 1000);
  return { container, ports, probes, graceSeconds: template.terminationGracePeriodSeconds };
}

/** Stops containers (whatever state they are in) and removes them; reports every failure. */
async function stopAll(containers: Array<StartedTestContainer | undefined>): Promise<void> {
  const results = await Promise.allSettled(containers.filter((c) => c !== undefined).map((c) => c.stop({ timeout: 1000 })));
  // A container a test removed already is fine.
  const failures = results
    .filter((result) => result.status === 'rejected')
    .map((result) => String(result.reason))
    .filter((reason) => !/no such container/i.test(reason));
  if (failures.length > 0) throw new Error(`could not stop every container:\n${failures.join('\n')}`);
}

// ---------------------------------------------------------------------------------------------

let network: StartedNetwork | undefined;
let postgres: StartedPostgreSqlContainer | undefined;
let redis: StartedRedisContainer | undefined;
let db: pg.Pool | undefined;

beforeAll(async () => {
  network = await new Network().start();
  const net = network;
  [postgres, redis] = await Promise.all([
    new PostgreSqlContainer(imageOf('POSTGRES_IMAGE'))
      .withDatabase(DB.database)
      .withUsername(DB.user)
      .withPassword(DB.password)
      .withNetwork(net)
      .withNetworkAliases('postgres')
      .withLabels(testLabels())
      .start(),
    new RedisContainer(imageOf('REDIS_IMAGE')).withNetwork(net).withNetworkAliases('redis').withLabels(testLabels()).start(),
  ]);
  db = new pg.Pool({ connectionString: postgres.getConnectionUri(), max: 2 });
});

afterAll(async () => {
  await db?.end();
  await stopAll([postgres, redis]);
  await network?.stop();
});

function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} did not start (see beforeAll)`);
  return value;
}

describe(`${EAP_IMAGE}`, () => {
  it('`eap --help` prints the usage with its commands and exits 0', async () => {
    const result = await eap(['--help']);
    expect(result, result.stderr).toMatchObject({ exitCode: 0 });
    expect(result.stdout).toMatch(/^Usage: eap <command>/m);
    for (const command of ['api', 'worker', 'migrate up', 'migrate status', 'project create', 'key rotate', 'dlq list', 'seed']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it('runs as a non-root user', async () => {
    const user = await imageUser(EAP_IMAGE);
    expect(isRootUser(user), `Config.User is "${user}"`).toBe(false);
    expect(await uidInImage(EAP_IMAGE)).not.toBe(0);
  });

  it('`eap migrate up` applies every migration of packages/db/migrations; `migrate status` then reports them applied', async () => {
    const migrationFiles = readdirSync(`${REPO_ROOT}packages/db/migrations`).filter((file) => file.endsWith('.sql'));
    expect(migrationFiles.length).toBeGreaterThan(0);
    const net = started(network, 'the network');

    const up = await eap(['migrate', 'up'], { DATABASE_URL }, net);
    expect(up, up.stderr).toMatchObject({ exitCode: 0 });
    const { rows } = await started(db, 'PostgreSQL').query<{ count: number }>('SELECT count(*)::int AS count FROM schema_migrations');
    expect(rows[0]?.count).toBe(migrationFiles.length);

    const status = await eap(['migrate', 'status'], { DATABASE_URL }, net);
    expect(status, status.stderr).toMatchObject({ exitCode: 0 });
    for (const file of migrationFiles) expect(status.stdout).toMatch(new RegExp(`^${file.replace(/\.sql$/, '')}\tapplied\t`, 'm'));
    expect(status.stdout).toMatch(/^up to date$/m);
  });
});

describe(`${EAP_IMAGE} as the operator's API and worker pods`, () => {
  const apiPod = podOf(buildApiDeployment(pipeline, EAP_IMAGE).spec.template.spec, {
    DATABASE_URL,
    REDIS_URL,
    EAP_ADMIN_TOKEN: ADMIN_TOKEN,
  });
  const workerPod = podOf(buildWorkerDeployment(pipeline, EAP_IMAGE).spec.template.spec, {
    DATABASE_URL,
    REDIS_URL,
    POD_NAME: 'images-test-worker-0',
  });
  let api: StartedTestContainer | undefined;
  let worker: StartedTestContainer | undefined;

  beforeAll(async () => {
    const net = started(network, 'the network');
    // What the operator's migration Job (and compose's migrate service) does before the workloads.
    const migrate = await eap(['migrate', 'up'], { DATABASE_URL }, net);
    expect(migrate, migrate.stderr).toMatchObject({ exitCode: 0 });
    [api, worker] = await Promise.all([apiPod.container.withNetwork(net).start(), workerPod.container.withNetwork(net).start()]);
  });

  afterAll(async () => {
    await stopAll([api, worker]);
  });

  it("every process of both containers runs as a non-root user, under the pods' securityContext", async () => {
    for (const container of [started(api, 'the API'), started(worker, 'the worker')]) {
      const [inspected] = JSON.parse(await docker(['container', 'inspect', container.getId()])) as Array<{
        HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null };
      }>;
      expect(inspected?.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'] });
      const lines = (await docker(['top', container.getId(), '-eo', 'uid,pid,args'])).trim().split('\n').slice(1);
      expect(lines.some((line) => line.includes('eap.js'))).toBe(true);
      for (const line of lines) expect(Number(line.trim().split(/\s+/)[0]), line).not.toBe(0);
    }
  });

  it("docker-compose.yml's health check of api and worker succeeds inside the containers", async () => {
    const compose = parse(readFileSync(`${REPO_ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
      services: Record<string, { healthcheck?: { test: string[] | string } }>;
    };
    for (const [service, container] of [
      ['api', started(api, 'the API')],
      ['worker', started(worker, 'the worker')],
    ] as const) {
      const test = compose.services[service]?.healthcheck?.test;
      if (!test) throw new Error(`docker-compose.yml: service ${service} has no healthcheck`);
      // The compose forms: ["CMD", argv...], ["CMD-SHELL", "command"] or a plain string (CMD-SHELL).
      const [form, ...rest] = typeof test === 'string' ? ['CMD-SHELL', test] : test;
      const command = form === 'CMD' ? rest : form === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : undefined;
      if (!command) throw new Error(`docker-compose.yml: service ${service} has a healthcheck of the form ${form}`);
      const result = await container.exec(command);
      expect(result, `${service}: ${result.output}`).toMatchObject({ exitCode: 0 });
    }
  });

  it("the operator's liveness, readiness and startup probes answer 200 on the mapped admin port", async () => {
    for (const [pod, container] of [
      [apiPod, started(api, 'the API')],
      [workerPod, started(worker, 'the worker')],
    ] as const) {
      expect(pod.probes.map((probe) => probe.kind)).toEqual(['livenessProbe', 'readinessProbe', 'startupProbe']);
      for (const probe of pod.probes) {
        const response = await fetch(`http://${container.getHost()}:${container.getMappedPort(probe.port)}${probe.path}`);
        expect(response.status, `${probe.kind} GET ${probe.path}`).toBe(200);
      }
    }
  });

  it('an event POSTed to the public port is accepted, and the worker stores it in PostgreSQL', async () => {
    const container = started(api, 'the API');
    const http = apiPod.ports.http;
    if (http === undefined) throw new Error('the API pod has no port named http');
    const base = `http://${container.getHost()}:${container.getMappedPort(http)}`;

    const created = await fetch(`${base}/v1/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'images-test' }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const project = (await created.json()) as { project_id: string; write_key: string };

    const event = { event: 'image_test_signup', distinct_id: 'user-42', properties: { plan: 'pro' } };
    const sent = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${project.write_key}`, 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(sent.status).toBe(202);
    expect(await sent.json()).toEqual({ accepted: 1, rejected: [] });

    const pool = started(db, 'PostgreSQL');
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query<{ distinct_id: string; properties: unknown }>(
          'SELECT distinct_id, properties FROM events WHERE project_id = $1 AND event = $2',
          [project.project_id, event.event],
        );
        expect(rows).toEqual([{ distinct_id: event.distinct_id, properties: event.properties }]);
      },
      { timeout: 30_000, interval: 200 },
    );
  });

  it("SIGTERM (docker stop with the pods' grace period) ends the API and the worker with exit code 0, not a kill", async () => {
    for (const [pod, container] of [
      [apiPod, started(api, 'the API')],
      [workerPod, started(worker, 'the worker')],
    ] as const) {
      try {
        // docker stop sends SIGTERM and kills (exit code 137) only when the grace period runs out.
        // Not removed, so that its state can be inspected: removed by the `finally`.
        await container.stop({ timeout: pod.graceSeconds * 1000, remove: false });
        const state = await inspectState(container.getId());
        const logs = await logsOf(container.getId());
        expect(state, logs.stdout.slice(-2000) + logs.stderr.slice(-2000)).toMatchObject({
          Status: 'exited',
          ExitCode: 0,
          OOMKilled: false,
        });
        expect(state.ExitCode).not.toBe(137);
        expect(logs.stdout).toMatch(/"msg":"stopped"/);
      } finally {
        await docker(['rm', '--force', '--volumes', container.getId()]);
      }
    }
  });
});

describe(`${OPERATOR_IMAGE}`, () => {
  it('`--help` prints the usage and exits 0', async () => {
    const result = await runToExit(new GenericContainer(OPERATOR_IMAGE).withCommand(['--help']));
    expect(result, result.stderr).toMatchObject({ exitCode: 0 });
    expect(result.stdout).toMatch(/^Usage: eap-operator/m);
    expect(result.stdout).toMatch(/^ {2}KUBECONFIG /m);
  });

  it('runs as a non-root user', async () => {
    const user = await imageUser(OPERATOR_IMAGE);
    expect(isRootUser(user), `Config.User is "${user}"`).toBe(false);
    expect(await uidInImage(OPERATOR_IMAGE)).not.toBe(0);
  });

  it('without a cluster it exits non-zero at once with a clear error, rather than hanging', async () => {
    const [inCluster, missingKubeconfig] = await Promise.all([
      runToExit(new GenericContainer(OPERATOR_IMAGE)),
      runToExit(new GenericContainer(OPERATOR_IMAGE).withEnvironment({ KUBECONFIG: '/nowhere/kubeconfig' })),
    ]);
    expect(inCluster.exitCode).not.toBe(0);
    expect(inCluster.stderr).toMatch(
      /^eap-operator: cannot connect to Kubernetes: no KUBECONFIG, no ~\/\.kube\/config and not running in a cluster/m,
    );
    expect(missingKubeconfig.exitCode).not.toBe(0);
    expect(missingKubeconfig.stderr).toMatch(/^eap-operator: cannot connect to Kubernetes: .*\/nowhere\/kubeconfig/m);
  });
});
