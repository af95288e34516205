export * from './config.ts';
export * from './worker.ts';
export * from './stream-maintenance.ts';
export * from './dead-letter.ts';
export * from './dlq-replay.ts';
export { COLUMNS as EVENT_COLUMNS, copyInto, copyLine, copyValue, createEventWriter, type EventWriter, eventRow } from './event-writer.ts';
export { pruneEventIds } from './dedup-window.ts';
