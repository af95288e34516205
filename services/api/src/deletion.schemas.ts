import { z } from 'zod';

// The receipt of a deletion as the API returns it (DeletionReceipt in @eap/db), for the OpenAPI
// document. The deletion routes take no body: their input is the path.

const count = z.number().int().min(0);

export const PipelineDrain = z
  .object({
    drained: z.boolean().meta({
      description: 'True when every stream entry of the subject accepted before the deletion was written (and so deleted) first.',
    }),
    shards: z.array(z.number().int().min(0)).meta({ description: 'Shards checked: those of the distinct ids, or all of them.' }),
    waited_ms: count,
    reason: z.string().optional().meta({ description: 'Why not drained: timeout, no consumer group, Redis unreachable.' }),
  })
  .meta({ id: 'PipelineDrain' });

export const DeletionReceipt = z
  .object({
    deletion_id: z.uuid(),
    kind: z.enum(['person', 'project']),
    project_id: z.uuid(),
    person_id: z.uuid().nullable().meta({ description: 'The person deleted; null for a distinct id without a person, and for a project.' }),
    distinct_ids: count.meta({ description: 'Distinct ids of the deleted person (the ids themselves are not kept).' }),
    requested_at: z.string().meta({ description: 'When the deletion started (ISO 8601).' }),
    completed_at: z.string().meta({ description: 'When it finished (ISO 8601).' }),
    keys_revoked: count.meta({ description: 'API keys revoked before anything was deleted (project deletion).' }),
    pipeline: PipelineDrain.nullable().meta({ description: 'The stream check before deleting; null when not checked.' }),
    removed: z
      .object({
        events: count,
        event_ids: count,
        event_counts_hourly: count,
        event_user_days: count,
        event_users_daily: count,
        persons: count,
        person_distinct_ids: count,
        api_keys: count,
        projects: count,
        person_deletion_receipts: count,
      })
      .meta({ description: 'Rows removed per table.' }),
    dlq_entries: count.nullable().meta({
      description:
        "Events of the subject removed from the dead-letter stream (eap:dlq): whole letters, and events taken out of letters that also hold other people's; null when the DLQ was not checked.",
    }),
    dlq_unreadable: count.nullable().meta({
      description: 'Events kept in the DLQ because their data cannot be read, so cannot be attributed; null when not checked.',
    }),
    subtracted: z
      .object({ event_counts_hourly: count, event_users_daily: count })
      .meta({ description: 'Events and daily users taken out of rollup rows that stay (they also count others).' }),
  })
  .meta({ id: 'DeletionReceipt' });
