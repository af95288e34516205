/** The bare pipeline's stream, consumer group and table (bench/bare-pipeline.ts). */
export const BARE_STREAM = 'bare:events';
export const BARE_GROUP = 'bare';
export const BARE_TABLE = 'bare_events';
