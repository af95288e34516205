import { EapError, type IngestResponse, type RejectedEvent } from '@eap/core';
import type { ApiMetrics } from './metrics.ts';
import { normalizeEvent, type RequestContext } from './event-normalizer.ts';
import type { PreparedEvent, StreamProducer } from './stream-producer.ts';

/**
 * Validates the events of one request, appends the valid ones in one script call (one round trip)
 * and reports an outcome for every event. Appends that failed are listed as rejected with
 * `retriable: true` and their event_id; when none succeeded, the request is a 503 whose details
 * list the same. Either way a client that resends with those ids cannot store an
 * event twice, even if an append whose answer was lost did happen.
 */
export function createIngestService(deps: { producer: StreamProducer; metrics: ApiMetrics }) {
  async function ingest(rawEvents: unknown[], ctx: RequestContext): Promise<IngestResponse> {
    const rejected: RejectedEvent[] = [];
    const entries: PreparedEvent[] = [];
    const entryIndex: number[] = [];
    const entryIds: string[] = [];
    for (let i = 0; i < rawEvents.length; i++) {
      const result = normalizeEvent(rawEvents[i], ctx);
      if (result.ok) {
        entries.push(result.entry);
        entryIndex.push(i);
        entryIds.push(result.eventId);
      } else {
        rejected.push({
          index: i,
          ...(result.eventId === undefined ? {} : { event_id: result.eventId }),
          errors: result.errors,
          retriable: false,
        });
      }
    }
    if (rejected.length > 0) deps.metrics.eventsRejected.inc({ reason: 'invalid_event' }, rejected.length);
    let accepted = 0;
    if (entries.length > 0) {
      // append() never throws: each event gets an outcome.
      const outcomes = await deps.producer.append(ctx.projectId, entries);
      const failed: RejectedEvent[] = [];
      let lastError = '';
      outcomes.forEach((outcome, j) => {
        if (outcome.ok) {
          accepted++;
          return;
        }
        lastError = outcome.error;
        failed.push({
          index: entryIndex[j]!,
          event_id: entryIds[j]!,
          errors: [{ path: '', message: 'the event is valid but could not be stored; retry it' }],
          retriable: true,
        });
      });
      if (failed.length > 0) {
        deps.metrics.eventsRejected.inc({ reason: 'storage_failed' }, failed.length);
        rejected.push(...failed);
        rejected.sort((a, b) => a.index - b.index);
      }
      if (accepted === 0) {
        // Redis failed during the request. An append whose answer was lost may still have
        // happened, so "nothing was accepted" would invite a retry that stores twice: say which
        // event_id each event got, so a retry with those ids is deduplicated.
        throw new EapError(
          'STREAM_UNAVAILABLE',
          'the event stream failed during the request; resend the events with the event_id given for each in details.rejected',
          { retryAfterSeconds: 2, details: { rejected }, cause: new Error(lastError) },
        );
      }
      deps.metrics.eventsAccepted.inc(accepted);
    }
    return { accepted, rejected };
  }
  return { ingest };
}
export type IngestService = ReturnType<typeof createIngestService>;
