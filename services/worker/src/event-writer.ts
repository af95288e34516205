import type pg from 'pg';
import type { StreamEvent } from '@eap/core';

// One statement per batch: each column travels as one array parameter, so the statement and its
// plan stay the same whatever the batch size. Duplicates (redelivery, client retries) hit the
// primary key and are skipped; the row count tells how many were new.
const INSERT_EVENTS = `
INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", client_timestamp, sent_at, received_at, session_id, properties, context)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::jsonb[], $11::jsonb[])
ON CONFLICT DO NOTHING`;

/**
 * Writes events to PostgreSQL in one transaction per call (bulk `INSERT … SELECT FROM unnest`,
 * see benchmarks/ for the comparison with COPY). Returns how many rows were new.
 */
export function createEventWriter(pool: pg.Pool) {
  async function write(events: readonly StreamEvent[]): Promise<{ inserted: number }> {
    const n = events.length;
    const cols = Array.from({ length: 11 }, () => new Array<string | null>(n));
    for (let i = 0; i < n; i++) {
      const e = events[i]!;
      cols[0]![i] = e.project_id;
      cols[1]![i] = e.event_id;
      cols[2]![i] = e.event;
      cols[3]![i] = e.distinct_id;
      cols[4]![i] = e.timestamp;
      cols[5]![i] = e.client_timestamp;
      cols[6]![i] = e.sent_at;
      cols[7]![i] = e.received_at;
      cols[8]![i] = e.session_id;
      cols[9]![i] = JSON.stringify(e.properties);
      cols[10]![i] = e.context === null ? null : JSON.stringify(e.context);
    }
    const result = await pool.query({ name: 'eap_insert_events', text: INSERT_EVENTS, values: cols });
    return { inserted: result.rowCount ?? 0 };
  }
  return { write };
}
export type EventWriter = ReturnType<typeof createEventWriter>;
