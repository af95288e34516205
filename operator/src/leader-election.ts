import type { Logger } from '@eap/core';
import { KubeApiError, type KubeClient } from './kube/kube-client.ts';
import { RESOURCES, resourcePath } from './kube/resources.ts';

export interface LeaderElectionOptions {
  kube: KubeClient;
  logger: Logger;
  namespace: string;
  name: string;
  identity: string;
  /** How long a Lease is valid without renewal. Default 12 s. */
  leaseDurationMs?: number;
  /** The leader gives up if it cannot renew within this time. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  /** Called once when leadership is lost; the process should stop working at once. */
  onStoppedLeading: () => void;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews the
 * Lease every retry period; others take it over once they have seen it unchanged for a whole
 * lease duration (measured on their own clock, so clock skew between nodes does not matter);
 * updates carry the resourceVersion, so two candidates cannot both win. A leader that cannot
 * renew within the renew deadline stops leading. `release()` hands the Lease over at shutdown
 * so a standby takes over within a retry period instead of a lease duration.
 */
export function createLeaderElector(options: LeaderElectionOptions) {
  const { kube, logger, identity } = options;
  const leaseDurationMs = options.leaseDurationMs ?? 12_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  const path = resourcePath(RESOURCES.lease, options.namespace);
  const leasePath = resourcePath(RESOURCES.lease, options.namespace, options.name);
  let leading = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastRenew = 0;
  let observed: { record: string; at: number } | undefined;

  function desiredSpec(now: number, previous?: Lease['spec']): Lease['spec'] {
    const takingOver = previous?.holderIdentity !== identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: takingOver ? microTime(now) : (previous?.acquireTime ?? microTime(now)),
      renewTime: microTime(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (takingOver && previous?.holderIdentity ? 1 : 0),
    };
  }

  /** One attempt; true when this candidate holds the Lease afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const lease = await kube.find<Lease>(leasePath);
    if (!lease) {
      const created = await kube.request('POST', path, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: options.name, namespace: options.namespace },
        spec: desiredSpec(now),
      });
      return created.status === 201;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (observed?.record !== record) observed = { record, at: now };
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && now < observed.at + duration) return false;
    const updated = await kube.request('PUT', leasePath, { ...lease, spec: desiredSpec(now, spec) });
    if (updated.status === 409) return false; // someone else updated it first
    if (updated.status !== 200) throw new KubeApiError('PUT', leasePath, updated.status, updated.body);
    return true;
  }

  async function loop(): Promise<void> {
    if (stopped) return;
    try {
      const holds = await tryAcquireOrRenew();
      if (holds) {
        lastRenew = Date.now();
        if (!leading) {
          leading = true;
          logger.info({ identity, lease: `${options.namespace}/${options.name}` }, 'became the leader');
          options.onStartedLeading();
        }
      } else if (leading) {
        lose('another candidate holds the Lease');
        return;
      }
    } catch (error) {
      logger.warn({ err: error }, 'leader election: could not read or update the Lease');
    }
    if (leading && Date.now() - lastRenew > renewDeadlineMs) {
      lose(`could not renew the Lease within ${renewDeadlineMs} ms`);
      return;
    }
    if (!stopped) timer = setTimeout(() => void loop(), retryPeriodMs);
  }

  function lose(why: string): void {
    leading = false;
    stopped = true;
    logger.error({ identity, why }, 'lost leadership');
    options.onStoppedLeading();
  }

  return {
    start(): void {
      void loop();
    },
    get isLeader(): boolean {
      return leading;
    },
    /** Stops competing; when leading, clears the holder so a standby takes over at once. */
    async release(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      if (!leading) return;
      leading = false;
      try {
        const lease = await kube.find<Lease>(leasePath);
        if (lease?.spec?.holderIdentity === identity) {
          await kube.request('PUT', leasePath, {
            ...lease,
            spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: null, renewTime: microTime(Date.now()) },
          });
        }
      } catch (error) {
        logger.warn({ err: error }, 'could not release the Lease; a standby takes over when it expires');
      }
    },
  };
}
export type LeaderElector = ReturnType<typeof createLeaderElector>;
