/**
 * Size the append-only file must pass before Redis rewrites it (`auto-aof-rewrite-min-size`;
 * Redis's default is 64mb). Every Redis that EAP starts or ships uses it: the local services,
 * docker-compose.yml and the kind manifests (checked by tests).
 *
 * Redis rewrites once the file has also doubled since the last rewrite, forking a process that
 * writes and compresses the whole data set. EAP's streams are a buffer that workers trim every
 * TRIM_INTERVAL_MS, so the data set stays small while the file grows with every event (about
 * 15 MB/s at 30,000 single events/s). With the default, Redis rewrote every 2-4 s under full
 * load: 38 % of its CPU, about 4 µs per event, which cost the API about 8 % of its single-event
 * rate on 2 cores (benchmarks/profiles.md, "Eighth change"). At 512mb it rewrites about a tenth
 * as often. The price is disk and restart time: the file grows to about 512 MB beyond the data
 * set before it is rewritten, and a restart replays up to that much.
 */
export const REDIS_AOF_REWRITE_MIN_SIZE = '512mb';
