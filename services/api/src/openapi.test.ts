import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from './openapi.ts';

describe('OpenAPI document', () => {
  it('matches the committed docs/openapi.json (run `make openapi` after changing a schema)', () => {
    const committed = readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');
    expect(JSON.parse(committed)).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });

  it('documents the event fields and limits from the zod schema', () => {
    const doc = buildOpenApiDocument();
    const event = doc.components.schemas.Event as unknown as {
      properties: Record<string, { maxLength?: number }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(event.required).toEqual(['event', 'distinct_id']);
    expect(event.properties.event?.maxLength).toBe(200);
    expect(event.properties.event_id?.maxLength).toBe(128);
    expect(event.additionalProperties).toBe(false);
    const batch = doc.components.schemas.BatchRequest as unknown as {
      properties: { events: { maxItems: number; items: { $ref: string } } };
    };
    expect(batch.properties.events.maxItems).toBe(1000);
    expect(batch.properties.events.items.$ref).toBe('#/components/schemas/Event');
  });
});
