import { EapError } from '@eap/core';
import { isoUtc, type QueryClient } from './query-runner.ts';

export interface PersonView {
  person_id: string | null;
  distinct_ids: string[];
  properties: Record<string, unknown>;
  is_identified: boolean;
  first_seen: string;
  last_seen: string;
}

/**
 * The person of a distinct id: its row in `persons` with every linked distinct id. A distinct id
 * that has (non-bot) events but no person is a person of its own, as queries count it: the view
 * then has no person_id, no properties, and the times of its events (read from the
 * (project_id, distinct_id, "timestamp") index). Neither: 404 NOT_FOUND.
 */
export async function getPerson(client: QueryClient, projectId: string, distinctId: string): Promise<PersonView> {
  const { rows } = await client.query<PersonView>(
    `SELECT p.id::text AS person_id, p.properties, p.is_identified,
            ${isoUtc('p.first_seen')} AS first_seen, ${isoUtc('p.last_seen')} AS last_seen,
            ARRAY(SELECT x.distinct_id FROM person_distinct_ids x WHERE x.project_id = p.project_id AND x.person_id = p.id
                  ORDER BY x.distinct_id) AS distinct_ids
     FROM person_distinct_ids d JOIN persons p ON p.project_id = d.project_id AND p.id = d.person_id
     WHERE d.project_id = $1 AND d.distinct_id = $2`,
    [projectId, distinctId],
  );
  if (rows[0]) return rows[0];
  const seen = await client.query<{ first_seen: string | null; last_seen: string | null }>(
    `SELECT ${isoUtc('min("timestamp")')} AS first_seen, ${isoUtc('max("timestamp")')} AS last_seen
     FROM events WHERE project_id = $1 AND distinct_id = $2 AND NOT is_bot`,
    [projectId, distinctId],
  );
  const { first_seen, last_seen } = seen.rows[0] ?? { first_seen: null, last_seen: null };
  if (first_seen === null || last_seen === null) {
    throw new EapError('NOT_FOUND', `no person and no events for distinct id "${distinctId}" in this project`);
  }
  return { person_id: null, distinct_ids: [distinctId], properties: {}, is_identified: false, first_seen, last_seen };
}
