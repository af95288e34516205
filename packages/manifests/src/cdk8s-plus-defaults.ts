import { ApiObject, JsonPatch } from 'cdk8s';
import { Pod } from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';

/**
 * Undoes what cdk8s-plus-28 adds on its own where it has no option to leave it out, so that the
 * objects stay field for field what the operator has always applied (a changed pod template would
 * roll every pipeline's pods when the operator is upgraded; a field the operator starts or stops
 * setting changes who owns it under server-side apply).
 *
 * These are JSON patches on the construct's ApiObject (`ApiObject.of(construct).addJsonPatch`).
 * cdk8s applies them to the object as the typed `k8s` classes hold it, before they turn it into
 * Kubernetes JSON: keys are those classes' property names, an int-or-string or a quantity is
 * written `{ value: … }`, and a key those classes do not know is dropped.
 */

/** A JSON Pointer token for a key that may hold `/` or `~` (RFC 6901). */
function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** `{ cpu: '250m' }` as the typed classes hold quantities: `{ cpu: { value: '250m' } }`. */
function quantities(values: Record<string, string | number>) {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { value }]));
}

/** Container resources as the spec gives them. */
export interface ResourceRequirements {
  requests?: Record<string, string | number> | undefined;
  limits?: Record<string, string | number> | undefined;
}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

/** The patches for one container at `path`: see ContainerOverrides. */
function containerPatches(path: string, overrides: ContainerOverrides): JsonPatch[] {
  const patches = [JsonPatch.remove(`${path}/securityContext/runAsNonRoot`), JsonPatch.remove(`${path}/securityContext/privileged`)];
  const { resources, probePort } = overrides;
  if (resources) {
    const value: Record<string, unknown> = {};
    if (resources.limits) value.limits = quantities(resources.limits);
    if (resources.requests) value.requests = quantities(resources.requests);
    patches.push(JsonPatch.add(`${path}/resources`, value));
  }
  if (probePort) {
    for (const probe of PROBES) {
      patches.push(
        JsonPatch.replace(`${path}/${probe}/httpGet/port`, { value: probePort }),
        JsonPatch.remove(`${path}/${probe}/httpGet/scheme`),
      );
    }
  }
  return patches;
}

export interface ContainerOverrides {
  /**
   * Resources exactly as given, none added. Without it, the container keeps what its cdk8s-plus
   * options produced: cdk8s-plus writes memory in Mi (a `1G` limit would not survive) and adds
   * CPU and memory requests and limits of its own to a container given none.
   */
  resources?: ResourceRequirements;
  /** The container port name its HTTP probes use (cdk8s-plus takes a number only and adds `scheme: HTTP`). */
  probePort?: string;
}

export interface PodTemplateOverrides {
  /** Keep cdk8s-plus's restartPolicy (a Job's `Never`); a Deployment's `Always` is the API default and was never written. */
  keepRestartPolicy?: boolean;
  /** Drop terminationGracePeriodSeconds: the migration Job never set it (cdk8s-plus writes 30, the API default). */
  dropTerminationGrace?: boolean;
  /** Pod-level fields cdk8s-plus has no option for. */
  add: Record<string, unknown>;
  /** Per container, by index. */
  containers: ContainerOverrides[];
}

/**
 * For a Deployment's or Job's pod template: drops the fields cdk8s-plus always writes and EAP
 * never did (its `cdk8s.io/metadata.addr` pod label, DNS and host-network defaults, an
 * fsGroupChangePolicy, a container-level runAsNonRoot and privileged: false — the pod already
 * runs as non-root and nothing is privileged), then adds `overrides`.
 */
export function overridePodTemplate(construct: IConstruct, overrides: PodTemplateOverrides): void {
  const object = ApiObject.of(construct);
  const pod = '/spec/template/spec';
  object.addJsonPatch(
    JsonPatch.remove(`/spec/template/metadata/labels/${pointerToken(Pod.ADDRESS_LABEL)}`),
    JsonPatch.remove(`${pod}/dnsPolicy`),
    JsonPatch.remove(`${pod}/hostNetwork`),
    JsonPatch.remove(`${pod}/setHostnameAsFqdn`),
    JsonPatch.remove(`${pod}/securityContext/fsGroupChangePolicy`),
    ...(overrides.keepRestartPolicy ? [] : [JsonPatch.remove(`${pod}/restartPolicy`)]),
    ...(overrides.dropTerminationGrace ? [JsonPatch.remove(`${pod}/terminationGracePeriodSeconds`)] : []),
    ...Object.entries(overrides.add).map(([path, value]) => JsonPatch.add(`${pod}/${path}`, value)),
  );
  for (const [index, container] of overrides.containers.entries()) {
    object.addJsonPatch(...containerPatches(`${pod}/containers/${index}`, container));
  }
}

/** A Deployment without cdk8s-plus's minReadySeconds: 0 and progressDeadlineSeconds: 600 (the API defaults, never written). */
export function overrideDeploymentDefaults(construct: IConstruct): void {
  ApiObject.of(construct).addJsonPatch(JsonPatch.remove('/spec/minReadySeconds'), JsonPatch.remove('/spec/progressDeadlineSeconds'));
}

/**
 * A Service without cdk8s-plus's `externalIPs: []`, its ports targeting container ports by name
 * (cdk8s-plus takes a target port number only). `targetPorts`: one name per port, in order.
 */
export function overrideServiceDefaults(construct: IConstruct, targetPorts: string[]): void {
  ApiObject.of(construct).addJsonPatch(
    JsonPatch.remove('/spec/externalIPs'),
    ...targetPorts.map((name, index) => JsonPatch.add(`/spec/ports/${index}/targetPort`, { value: name })),
  );
}

/** A ConfigMap without cdk8s-plus's `immutable: false` (the API default, never written). */
export function overrideConfigMapDefaults(construct: IConstruct): void {
  ApiObject.of(construct).addJsonPatch(JsonPatch.remove('/immutable'));
}
