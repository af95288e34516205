export * from './crd.ts';
export * from './event-pipeline.schema.ts';
export * from './labels.ts';
export * from './monitoring.ts';
export * from './monitoring-assets.ts';
export * from './operator-install.ts';
export * from './pipeline-objects.ts';
export * from './workloads.ts';
