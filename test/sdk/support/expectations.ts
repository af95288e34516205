import { expect } from 'vitest';
import type { SentMessage } from './node-clients.ts';
import type { StoredEvent } from './sdk-pipeline.ts';

/**
 * Every message the SDK sent is stored exactly once, under the SDK's own id (messageId, uuid,
 * insert_id), with the event name and distinct id EAP maps it to, at a time within `skewMs` of
 * when the test handed it to the SDK (the client and the server share this machine's clock).
 */
export function expectStoredOnce(sent: SentMessage[], stored: StoredEvent[], skewMs = 5_000): void {
  expect(sent.length).toBeGreaterThan(0);
  for (const message of sent) {
    const rows = stored.filter((row) => row.event_id === message.eventId);
    expect(rows, `${message.event} ${message.eventId}`).toHaveLength(1);
    const [row] = rows;
    expect({ event: row!.event, distinct_id: row!.distinct_id }).toEqual({ event: message.event, distinct_id: message.distinctId });
    expect(Math.abs(row!.timestamp.getTime() - message.sentAt), `${message.event} stored at ${row!.timestamp.toISOString()}`).toBeLessThan(
      skewMs,
    );
  }
}

/** The stored event of this name (exactly one). */
export function only(stored: StoredEvent[], event: string): StoredEvent {
  const rows = stored.filter((row) => row.event === event);
  expect(rows, event).toHaveLength(1);
  return rows[0]!;
}
