import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  path: string;
  connections: number;
  durationS: number;
  /** Request bodies, used in turn (one per request). */
  bodies: string[];
  headers?: Record<string, string>;
  /** Headers that vary per request, used in turn over `headers` (e.g. many client addresses). */
  headerSets?: Record<string, string>[];
  /** Requests per second over all connections; unset = as fast as possible. */
  overallRate?: number;
  onTick?: (completedRequests: number) => void;
}

export interface LoadResult {
  requests: number;
  reqPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

/** Drives an HTTP endpoint with autocannon (in this process) and summarises what it measured. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  let nextHeaders = 0;
  let completed = 0;
  const headerSets = options.headerSets ?? [];
  let finish: (error: Error | null, result: autocannon.Result) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (error, result) => (error ? reject(error) : resolve(result));
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      duration: options.durationS,
      ...(options.overallRate ? { overallRate: options.overallRate } : {}),
      requests: [
        {
          method: 'POST',
          path: options.path,
          headers: { 'content-type': 'application/json', ...options.headers },
          setupRequest: (request) => {
            request.body = options.bodies[next++ % options.bodies.length]!;
            if (headerSets.length > 0) request.headers = { ...request.headers, ...headerSets[nextHeaders++ % headerSets.length] };
            return request;
          },
        },
      ],
    },
    (error, result) => finish(error, result),
  );
  instance.on('response', () => {
    completed++;
  });
  const ticker = setInterval(() => options.onTick?.(completed), 1000);
  const result = await done;
  clearInterval(ticker);
  return {
    requests: result.requests.total,
    reqPerSec: Math.round(result.requests.total / (result.duration || options.durationS)),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
