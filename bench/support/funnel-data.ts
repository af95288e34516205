import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createFunnelModel } from '@eap/traffic';
import { copyLine, EVENT_COLUMNS } from '@eap/worker';
import { parseUserAgent } from '../../services/api/src/enrichment/user-agent.ts';
import { copyEventLines } from './copy-event-lines.ts';
import type { Progress } from './progress.ts';
import { WORKER_BATCH_ROWS } from './query-data.ts';
import { streamRowOf } from '@eap/core';

export interface FunnelDataOptions {
  projectId: string;
  events: number;
  /** Simulated users (the end-to-end benchmark's load uses 10,000). */
  users: number;
  /** Events are spread evenly over [from, to), in the model's session order. */
  from: Date;
  to: Date;
  seed?: number;
}

/**
 * COPY lines of the events `make bench` sends (the funnel model of `eap seed`, 10,000 users), as
 * the worker stores them: the context the API keeps (user agent parsed, no IP), is_bot false
 * (the model's user agents are browsers'), and each batch of WORKER_BATCH_ROWS events sorted by
 * event name, then time (event-writer.ts), which decides how many heap pages a step's events
 * span.
 */
function* funnelDataLines(options: FunnelDataOptions): Generator<string> {
  const span = options.to.getTime() - options.from.getTime();
  let calls = 0;
  // The model reads the clock once per event: each one a little later than the one before.
  const now = () => options.from.getTime() + Math.floor((calls++ * span) / options.events);
  const model = createFunnelModel({ users: options.users, seed: options.seed ?? 2, now });
  const agents = new Map<string, ReturnType<typeof parseUserAgent>>();
  for (let done = 0; done < options.events; done += WORKER_BATCH_ROWS) {
    const batch = model.next(Math.min(WORKER_BATCH_ROWS, options.events - done));
    batch.sort((a, b) => (a.event < b.event ? -1 : a.event > b.event ? 1 : a.timestamp < b.timestamp ? -1 : 1));
    for (const e of batch) {
      const ua = e.context?.user_agent ?? '';
      const agent = agents.get(ua) ?? parseUserAgent(ua);
      agents.set(ua, agent);
      yield copyLine(
        streamRowOf({
          project_id: options.projectId,
          event_id: randomUUID(),
          event: e.event,
          distinct_id: e.distinct_id,
          timestamp: e.timestamp,
          client_timestamp: null,
          sent_at: null,
          received_at: e.timestamp,
          session_id: e.session_id,
          properties: e.properties,
          context: { library: e.context?.library, user_agent: ua, ...agent },
          is_bot: false,
        }),
      );
    }
  }
}

/**
 * Loads the funnel model's events straight into `events` with COPY (the triggers that keep the
 * rollups and persons run per statement, as for the worker's inserts). Returns the seconds taken.
 */
export async function loadFunnelData(client: pg.Client, options: FunnelDataOptions, progress: Progress): Promise<number> {
  const started = performance.now();
  await copyEventLines(client, EVENT_COLUMNS, funnelDataLines(options), (loaded) =>
    progress.update(`loading: ${loaded.toLocaleString('en')} of ${options.events.toLocaleString('en')} events`),
  );
  return (performance.now() - started) / 1000;
}
