export * from './config.ts';
export * from './server.ts';
export * from './app.ts';
export * from './openapi.ts';
export { measureShardBacklog } from './backlog-monitor.ts';
export { packEntries } from './stream-producer.ts';
