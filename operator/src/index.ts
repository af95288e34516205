export * from './config.ts';
export * from './kube/kube-client.ts';
export * from './kube/kube-config.ts';
export * from './kube/resources.ts';
export * from './operator.ts';
