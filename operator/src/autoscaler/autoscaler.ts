import type { Logger } from '@eap/core';
import { childNames, type EventPipeline, FIELD_MANAGER } from '@eap/manifests';
import { Redis } from 'ioredis';
import type { EventRecorder } from '../event-recorder.ts';
import { describeKubeError, type KubeClients, MERGE_PATCH, unlessNotFound } from '../kube-clients.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { readBacklog } from './backlog-reader.ts';
import { decideReplicas, emptyMemory, type ScalingMemory } from './scaling-policy.ts';

/** What the autoscaler last saw for one pipeline; the reconciler writes it into the status. */
export interface AutoscalerState {
  healthy: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  backlog?: number;
  replicas?: number;
  desiredReplicas?: number;
  lastScaleTime?: string;
}

interface Loop {
  pipeline: EventPipeline;
  timer: NodeJS.Timeout | undefined;
  memory: ScalingMemory;
  state: AutoscalerState;
  redis: { url: string; client: Redis } | undefined;
  running: boolean;
  stopped: boolean;
}

export interface Autoscaler {
  /** Starts or updates the loop of `pipeline` (its latest spec is read on every tick). */
  sync(pipeline: EventPipeline): void;
  remove(key: string): void;
  state(key: string): AutoscalerState | undefined;
  stop(): Promise<void>;
}

const keyOf = (pipeline: EventPipeline) => `${pipeline.metadata.namespace}/${pipeline.metadata.name}`;

/**
 * One loop per EventPipeline: every `worker.pollIntervalSeconds` it measures the backlog in the
 * pipeline's Redis, decides the worker replicas with {@link decideReplicas}, and writes them
 * through the worker Deployment's `/scale` subresource. Any failure keeps the current replicas
 * and is reported as AutoscalerHealthy=False; the next tick tries again.
 */
export function createAutoscaler(deps: {
  clients: Pick<KubeClients, 'core' | 'apps'>;
  logger: Logger;
  metrics: OperatorMetrics;
  recordEvent: EventRecorder;
  /** Called when a loop's state changed, so the pipeline's status gets updated. */
  onStateChange: (key: string) => void;
}): Autoscaler {
  const { clients, logger, metrics } = deps;
  const loops = new Map<string, Loop>();

  async function redisUrlOf(pipeline: EventPipeline): Promise<string> {
    const ref = pipeline.spec.redis.urlSecretRef;
    const secret = await unlessNotFound(clients.core.readNamespacedSecret({ name: ref.name, namespace: pipeline.metadata.namespace }));
    if (!secret) throw Object.assign(new Error(`Secret ${ref.name} not found`), { reason: 'SecretNotFound' });
    const value = secret.data?.[ref.key];
    if (!value) throw Object.assign(new Error(`Secret ${ref.name} has no key ${ref.key}`), { reason: 'SecretNotFound' });
    return Buffer.from(value, 'base64').toString('utf8');
  }

  function redisFor(loop: Loop, url: string): Redis {
    if (loop.redis?.url === url) return loop.redis.client;
    loop.redis?.client.disconnect();
    const client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 3000,
      commandTimeout: 3000,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 250, 3000),
    });
    client.on('error', () => {}); // reported through the state of each tick
    loop.redis = { url, client };
    return client;
  }

  async function tick(key: string, loop: Loop): Promise<AutoscalerState> {
    const { pipeline } = loop;
    const ns = pipeline.metadata.namespace;
    const worker = { name: childNames(pipeline).worker, namespace: ns };
    const scale = await unlessNotFound(clients.apps.readNamespacedDeploymentScale(worker));
    if (!scale)
      return { healthy: 'Unknown', reason: 'WaitingForWorkers', message: 'the worker Deployment does not exist yet (migrations pending)' };
    const current = scale.spec?.replicas ?? 0;

    let reading: Awaited<ReturnType<typeof readBacklog>>;
    try {
      const client = redisFor(loop, await redisUrlOf(pipeline));
      reading = await readBacklog(client, pipeline.spec.streams.shards);
    } catch (error) {
      const reason = (error as { reason?: string }).reason ?? 'RedisUnavailable';
      metrics.autoscalerErrors.inc({ reason });
      return {
        ...loop.state,
        healthy: 'False',
        reason,
        message: `${describeKubeError(error)}; keeping ${current} replicas`,
        replicas: current,
      };
    }

    const limits = pipeline.spec.worker;
    const decision = decideReplicas({
      now: Date.now(),
      current,
      backlog: reading.backlog,
      spec: {
        minReplicas: limits.minReplicas,
        maxReplicas: limits.maxReplicas,
        targetBacklogPerReplica: limits.targetBacklogPerReplica,
        stabilizationSeconds: limits.scaleDown.stabilizationSeconds,
      },
      memory: loop.memory,
    });
    loop.memory = decision.memory;
    let lastScaleTime = loop.state.lastScaleTime;
    if (decision.replicas !== current) {
      await clients.apps.patchNamespacedDeploymentScale(
        { ...worker, body: { spec: { replicas: decision.replicas } }, fieldManager: FIELD_MANAGER },
        MERGE_PATCH,
      );
      lastScaleTime = new Date().toISOString();
      metrics.scaleEvents.inc({ direction: decision.replicas > current ? 'up' : 'down' });
      deps.recordEvent(pipeline, 'Normal', 'WorkersScaled', `worker replicas ${current} → ${decision.replicas}: ${decision.reason}`);
      logger.info({ pipeline: key, from: current, to: decision.replicas, reason: decision.reason }, 'scaled workers');
    }
    if (reading.backlog !== null) metrics.backlog.set({ namespace: ns, pipeline: pipeline.metadata.name }, reading.backlog);
    metrics.workerReplicas.set({ namespace: ns, pipeline: pipeline.metadata.name }, decision.replicas);
    return {
      healthy: 'True',
      reason: reading.backlog === null ? 'BacklogUnknown' : 'BacklogMeasured',
      message: reading.backlog === null ? `${reading.unknownBecause}; holding ${decision.replicas} replicas` : decision.reason,
      backlog: reading.backlog ?? loop.state.backlog,
      replicas: decision.replicas,
      desiredReplicas: decision.recommendation,
      lastScaleTime,
    };
  }

  function schedule(key: string, loop: Loop, delayMs: number): void {
    if (loop.stopped) return;
    loop.timer = setTimeout(() => void run(key, loop), delayMs);
  }

  async function run(key: string, loop: Loop): Promise<void> {
    loop.running = true;
    let next: AutoscalerState;
    try {
      next = await tick(key, loop);
    } catch (error) {
      metrics.autoscalerErrors.inc({ reason: 'KubernetesError' });
      next = { ...loop.state, healthy: 'False', reason: 'ScaleFailed', message: describeKubeError(error) };
    }
    loop.running = false;
    if (loop.stopped) return;
    if (JSON.stringify(next) !== JSON.stringify(loop.state)) {
      loop.state = next;
      deps.onStateChange(key);
    }
    schedule(key, loop, loop.pipeline.spec.worker.pollIntervalSeconds * 1000);
  }

  function stopLoop(loop: Loop): void {
    loop.stopped = true;
    clearTimeout(loop.timer);
    loop.redis?.client.disconnect();
  }

  return {
    sync(pipeline) {
      const key = keyOf(pipeline);
      const loop = loops.get(key);
      if (loop) {
        const specChanged =
          JSON.stringify([loop.pipeline.spec.worker, loop.pipeline.spec.streams]) !==
          JSON.stringify([pipeline.spec.worker, pipeline.spec.streams]);
        loop.pipeline = pipeline;
        // A changed spec (limits, interval) takes effect now rather than at the next tick, and so
        // does a worker Deployment that has just been created.
        if ((specChanged || loop.state.reason === 'WaitingForWorkers') && !loop.running) {
          clearTimeout(loop.timer);
          schedule(key, loop, 0);
        }
        return;
      }
      const created: Loop = {
        pipeline,
        timer: undefined,
        memory: emptyMemory(),
        state: { healthy: 'Unknown', reason: 'Starting', message: 'the first backlog measurement is pending' },
        redis: undefined,
        running: false,
        stopped: false,
      };
      loops.set(key, created);
      schedule(key, created, 0);
    },
    remove(key) {
      const loop = loops.get(key);
      if (!loop) return;
      stopLoop(loop);
      loops.delete(key);
      const [namespace, pipeline] = key.split('/');
      metrics.backlog.remove({ namespace, pipeline });
      metrics.workerReplicas.remove({ namespace, pipeline });
    },
    state(key) {
      return loops.get(key)?.state;
    },
    async stop() {
      for (const loop of loops.values()) stopLoop(loop);
      loops.clear();
    },
  };
}
