import type { Logger } from '@eap/core';
import { type CoordinationV1Api, type V1Lease, type V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';
import { describeKubeError, httpStatusOf, unlessNotFound } from './kube-clients.ts';

export interface LeaderElectionOptions {
  coordination: CoordinationV1Api;
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

/** A Lease's times are MicroTime (six fractional digits); the library's V1MicroTime writes them so. */
const microTime = (ms: number) => new V1MicroTime(ms);

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews the
 * Lease every retry period; others take it over once they have seen it unchanged for a whole
 * lease duration (measured on their own clock, so clock skew between nodes does not matter);
 * updates carry the resourceVersion, so two candidates cannot both win. A leader that cannot
 * renew within the renew deadline stops leading. `release()` hands the Lease over at shutdown
 * so a standby takes over within a retry period instead of a lease duration. `answeredWithin`
 * says whether the API server has answered an attempt lately (a standby's readiness).
 */
export function createLeaderElector(options: LeaderElectionOptions) {
  const { coordination, logger, identity } = options;
  const { namespace, name } = options;
  const leaseDurationMs = options.leaseDurationMs ?? 12_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  let leading = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastRenew = 0;
  let observed: { record: string; at: number } | undefined;
  let lastAnswerAt: number | undefined;

  /** Runs a Lease request, noting that the API server answered (conflicts and absence are answers too). */
  async function ask<T>(request: Promise<T>): Promise<T> {
    try {
      const result = await request;
      lastAnswerAt = Date.now();
      return result;
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 404 || status === 409) lastAnswerAt = Date.now();
      throw error;
    }
  }

  const readLease = () => ask(unlessNotFound(coordination.readNamespacedLease({ name, namespace })));

  function desiredSpec(now: number, previous?: V1LeaseSpec): V1LeaseSpec {
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
    const lease = await readLease();
    if (!lease) {
      const body: V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: desiredSpec(now) };
      try {
        await ask(coordination.createNamespacedLease({ namespace, body }));
        return true;
      } catch (error) {
        if (httpStatusOf(error) === 409) return false; // another candidate created it first
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (observed?.record !== record) observed = { record, at: now };
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && now < observed.at + duration) return false;
    try {
      // The update carries the resourceVersion read above: it fails (409) if anyone wrote meanwhile.
      await ask(coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: desiredSpec(now, spec) } }));
      return true;
    } catch (error) {
      if (httpStatusOf(error) === 409) return false; // someone else updated it first
      throw error;
    }
  }

  async function loop(): Promise<void> {
    if (stopped) return;
    try {
      const holds = await tryAcquireOrRenew();
      if (holds) {
        lastRenew = Date.now();
        if (!leading) {
          leading = true;
          logger.info({ identity, lease: `${namespace}/${name}` }, 'became the leader');
          options.onStartedLeading();
        }
      } else if (leading) {
        lose('another candidate holds the Lease');
        return;
      }
    } catch (error) {
      logger.warn({ answer: describeKubeError(error) }, 'leader election: could not read or update the Lease');
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
    /** The API server answered a Lease request within the last `ms`. */
    answeredWithin(ms: number): boolean {
      return lastAnswerAt !== undefined && Date.now() - lastAnswerAt <= ms;
    },
    /** Stops competing; when leading, clears the holder so a standby takes over at once. */
    async release(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      if (!leading) return;
      leading = false;
      try {
        const lease = await readLease();
        if (lease?.spec?.holderIdentity === identity) {
          // Omitted fields are cleared by the update: no holder, no acquire time.
          const { holderIdentity: _holder, acquireTime: _acquired, ...rest } = lease.spec;
          const spec: V1LeaseSpec = { ...rest, leaseDurationSeconds: 1, renewTime: microTime(Date.now()) };
          await ask(coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } }));
        }
      } catch (error) {
        logger.warn({ answer: describeKubeError(error) }, 'could not release the Lease; a standby takes over when it expires');
      }
    },
  };
}
export type LeaderElector = ReturnType<typeof createLeaderElector>;
