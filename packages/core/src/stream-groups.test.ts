import { describe, expect, it } from 'vitest';
import { parseStreamGroups, shardBacklog } from './stream-groups.ts';

const reply = [
  ['name', 'analytics', 'consumers', 0, 'pending', 0, 'last-delivered-id', '0-0', 'entries-read', null, 'lag', 9],
  ['name', 'eap-writers', 'consumers', 2, 'pending', 3, 'last-delivered-id', '17-4', 'entries-read', 5, 'lag', 4],
];

describe('consumer-group state', () => {
  it('parses XINFO GROUPS and counts the writers’ lag plus pending as the backlog', () => {
    const groups = parseStreamGroups(reply);
    expect(groups[1]).toEqual({ name: 'eap-writers', pending: 3, lastDeliveredId: '17-4', lag: 4 });
    expect(shardBacklog(groups, 100)).toBe(7);
  });

  it('counts the whole stream when there is no writers group or Redis cannot tell the lag', () => {
    expect(shardBacklog(parseStreamGroups([reply[0]]), 100)).toBe(100);
    const unknownLag = [['name', 'eap-writers', 'pending', 3, 'last-delivered-id', '1-0', 'lag', null]];
    expect(shardBacklog(parseStreamGroups(unknownLag), 100)).toBe(100);
  });
});
