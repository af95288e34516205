import { Protocol, Service, ServiceType } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { overrideServiceDefaults } from './cdk8s-plus-defaults.ts';
import type { EventPipeline } from './event-pipeline.schema.ts';
import { type Component, childMeta, childNames, selectorLabels } from './labels.ts';
import { API_CONTAINER_PORT } from './workloads.ts';

const SERVICE_TYPE = { ClusterIP: ServiceType.CLUSTER_IP, NodePort: ServiceType.NODE_PORT, LoadBalancer: ServiceType.LOAD_BALANCER };

export interface ComponentServiceProps {
  name: string;
  component: Component;
  type: keyof typeof SERVICE_TYPE;
  /** `None`: headless. */
  clusterIP?: 'None';
  /** One port, targeting the container port of the same name. */
  port: { name: string; port: number; nodePort?: number | undefined };
  extraLabels?: Record<string, string>;
}

/** A Service selecting one component's pods with a single TCP port. */
export function addComponentService(scope: Construct, pipeline: EventPipeline, props: ComponentServiceProps): Service {
  const meta = childMeta(pipeline, props.name, props.component);
  const service = new Service(scope, `service-${props.name}`, {
    metadata: { ...meta, labels: { ...meta.labels, ...props.extraLabels } },
    type: SERVICE_TYPE[props.type],
    ...(props.clusterIP ? { clusterIP: props.clusterIP } : {}),
    ports: [{ name: props.port.name, port: props.port.port, protocol: Protocol.TCP, nodePort: props.port.nodePort }],
  });
  for (const [key, value] of Object.entries(selectorLabels(pipeline, props.component))) service.selectLabel(key, value);
  overrideServiceDefaults(service, [props.port.name]);
  return service;
}

/**
 * The API Service: `http` for clients, and nothing else. It may be a LoadBalancer or NodePort, so
 * the admin port has its own headless Service (addMetricsServices in network-access.ts).
 */
export function addApiService(scope: Construct, pipeline: EventPipeline): Service {
  const service = pipeline.spec.api.service;
  return addComponentService(scope, pipeline, {
    name: childNames(pipeline).api,
    component: 'api',
    type: service.type,
    port: { name: 'http', port: service.port, nodePort: service.type !== 'ClusterIP' ? service.nodePort : undefined },
  });
}

/** The query Service (with `spec.query.separate`): ClusterIP, `http` on port 8000, for the clients of the query API. */
export function addQueryService(scope: Construct, pipeline: EventPipeline): Service {
  return addComponentService(scope, pipeline, {
    name: childNames(pipeline).query,
    component: 'query',
    type: 'ClusterIP',
    port: { name: 'http', port: API_CONTAINER_PORT },
  });
}
