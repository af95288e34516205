import { compact, idOf, isoFromMs, isPlainObject, type MappedMessage, type RawEvent, unmappable } from './mapped-message.ts';

/** The Segment Spec call types EAP maps (https://segment.com/docs/connections/spec/). */
export const SEGMENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

/** analytics.js posts single calls to `/v1/<first letter of the type>`. */
export const SEGMENT_SHORT_PATHS: Record<string, SegmentType> = {
  t: 'track',
  i: 'identify',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
};

/** The `$group_type` of a Segment group call: Segment has a single kind of group. */
export const SEGMENT_GROUP_TYPE = 'group';

function segmentType(value: unknown): SegmentType | undefined {
  const type = typeof value === 'string' ? value.toLowerCase() : undefined;
  return (SEGMENT_TYPES as readonly string[]).includes(type ?? '') ? (type as SegmentType) : undefined;
}

/** Properties of a call that carries them: a copy to add to, or the raw value for the schema to refuse. */
function propertiesOf(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return {};
  return isPlainObject(value) ? { ...value } : undefined;
}

/**
 * Segment's `context` is kept as the event's context; its `userAgent` (a server SDK forwarding its
 * user's) also becomes `context.user_agent`, the key EAP reads.
 */
function contextOf(value: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) return undefined;
  const context = { ...value };
  const userAgent = context.userAgent;
  if (context.user_agent === undefined && typeof userAgent === 'string' && userAgent.length > 0 && userAgent.length <= 1000) {
    context.user_agent = userAgent;
  }
  return context;
}

function timeOf(message: Record<string, unknown>): unknown {
  const time = message.timestamp ?? message.originalTimestamp;
  return typeof time === 'number' ? (isoFromMs(time) ?? time) : time;
}

/**
 * One Segment message (track, identify, page, screen, group, alias) as an EAP raw event, per the
 * mapping in docs/sdk-endpoints.md. `pathType` is the type named by a single-call path
 * (`/v1/track`, `/v1/t`), which wins over the message's own `type`.
 */
export function mapSegmentMessage(message: unknown, pathType?: SegmentType): MappedMessage {
  if (!isPlainObject(message)) return unmappable([{ path: '', message: 'must be a JSON object (one Segment message)' }]);
  const messageId = typeof message.messageId === 'number' ? String(message.messageId) : message.messageId;
  const type = pathType ?? segmentType(message.type);
  if (!type) {
    return unmappable(
      [{ path: 'type', message: `must be one of ${SEGMENT_TYPES.join(', ')}; got ${JSON.stringify(message.type ?? null).slice(0, 50)}` }],
      messageId,
    );
  }
  const userId = idOf(message.userId);
  const anonymousId = idOf(message.anonymousId);
  const distinctId = userId ?? anonymousId;
  if (distinctId === undefined) {
    return unmappable([{ path: 'userId', message: 'userId or anonymousId is required (a non-empty string)' }], messageId);
  }
  const base = {
    distinct_id: distinctId,
    event_id: messageId,
    timestamp: timeOf(message),
    context: contextOf(message.context),
  };
  let event: RawEvent;
  switch (type) {
    case 'track': {
      event = { ...base, event: message.event, properties: propertiesOf(message.properties) ?? (message.properties as never) };
      break;
    }
    case 'page':
    case 'screen': {
      const properties = propertiesOf(message.properties);
      if (properties && typeof message.name === 'string') properties[type === 'page' ? '$page_name' : '$screen_name'] = message.name;
      if (properties && type === 'page' && typeof properties.url === 'string') properties.$current_url = properties.url;
      event = { ...base, event: type === 'page' ? '$pageview' : '$screen', properties: properties ?? (message.properties as never) };
      break;
    }
    case 'identify': {
      const properties: Record<string, unknown> = {};
      if (message.traits !== undefined && message.traits !== null) properties.$set = message.traits;
      if (userId !== undefined && anonymousId !== undefined && userId !== anonymousId) properties.$anon_distinct_id = anonymousId;
      event = { ...base, event: '$identify', properties };
      break;
    }
    case 'group': {
      const groupId = idOf(message.groupId);
      if (groupId === undefined) return unmappable([{ path: 'groupId', message: 'is required for a group call' }], messageId);
      const properties: Record<string, unknown> = { $group_type: SEGMENT_GROUP_TYPE, $group_key: groupId };
      if (message.traits !== undefined && message.traits !== null) properties.$group_set = message.traits;
      event = { ...base, event: '$groupidentify', properties };
      break;
    }
    case 'alias': {
      const previousId = idOf(message.previousId);
      if (userId === undefined) return unmappable([{ path: 'userId', message: 'is required for an alias call' }], messageId);
      if (previousId === undefined) return unmappable([{ path: 'previousId', message: 'is required for an alias call' }], messageId);
      event = { ...base, distinct_id: userId, event: '$create_alias', properties: { alias: previousId } };
      break;
    }
  }
  return { ok: true, event: compact(event) };
}
