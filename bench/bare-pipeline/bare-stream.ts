/** The bare pipeline's stream and table (bench/bare-pipeline.ts). Its writers read in EAP's consumer group. */
export const BARE_STREAM = 'bare:events';
export const BARE_TABLE = 'bare_events';
