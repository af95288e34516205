// The tests talk to the API server with the operator's own client (operator/src/kube).
export {
  KubeApiError,
  KubeClient,
  type KubeList,
  type KubeObject,
  type KubeResponse,
  type KubeStatus,
  type RequestOptions,
} from '../../../operator/src/kube/kube-client.ts';

/** Polls `fn` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
