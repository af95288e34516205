/** A throwaway server (Redis or PostgreSQL) started by this package. */
export interface LocalService {
  /** `redis://127.0.0.1:PORT` or `postgres://eap@127.0.0.1:PORT/postgres`. */
  readonly url: string;
  readonly port: number;
  /**
   * Where the server keeps its data and log file. For PostgreSQL run as root this can differ
   * from the requested directory (see {@link startPostgres}); for container-backed services it
   * is `docker:<container id>`.
   */
  readonly dataDir: string;
  /** Graceful stop; resolves once the process has exited. Does nothing when already stopped. */
  stop(): Promise<void>;
  /** Starts again on the same port and data dir; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGKILLs the server (and its child processes) to simulate a crash; waits for exit. */
  kill(): Promise<void>;
}

/** Redis plus PostgreSQL, as started by {@link startLocalStack}. */
export interface LocalStack {
  redisUrl: string;
  databaseUrl: string;
  redis: LocalService;
  postgres: LocalService;
  /** Stops both services. */
  stop(): Promise<void>;
}
