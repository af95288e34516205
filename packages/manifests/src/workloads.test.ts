import { describe, expect, it } from 'vitest';
import { EventPipelineSpecSchema, type EventPipeline, type EventPipelineSpecInput } from './event-pipeline.schema.ts';
import { buildApiDeployment } from './workloads.ts';

function apiEnv(api: EventPipelineSpecInput['api']) {
  const pipeline: EventPipeline = {
    apiVersion: 'eap.dev/v1alpha1',
    kind: 'EventPipeline',
    metadata: { name: 'shop', namespace: 'analytics' },
    spec: EventPipelineSpecSchema.parse({ redis: { urlSecretRef: { name: 'r' } }, postgres: { urlSecretRef: { name: 'p' } }, api }),
  };
  return buildApiDeployment(pipeline, 'eap:1').spec.template.spec.containers[0]?.env ?? [];
}

describe('the API Deployment', () => {
  it('lets the API accept a demo admin token only when spec.api.allowDemoAdminToken says so', () => {
    const adminTokenSecretRef = { name: 'backends', key: 'admin-token' };
    expect(apiEnv({ adminTokenSecretRef }).map((e) => e.name)).not.toContain('EAP_ALLOW_DEMO_TOKEN');
    expect(apiEnv({ adminTokenSecretRef, allowDemoAdminToken: true })).toContainEqual({ name: 'EAP_ALLOW_DEMO_TOKEN', value: 'true' });
  });
});
