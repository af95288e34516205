export * from './config.ts';
export * from './kube-clients.ts';
export * from './kube-config-loader.ts';
export * from './operator.ts';
