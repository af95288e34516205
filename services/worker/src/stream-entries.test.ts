import { describe, expect, it } from 'vitest';
import { entriesFromRead } from './stream-entries.ts';

describe('entries read as bytes', () => {
  it("keeps the data's value as the bytes Redis sent and makes every other name and value text", () => {
    const data = Buffer.from('{"event":"e"}\n{}\nnull');
    // A value that reads "data" is not the data: only the value after the name is.
    const fields = [Buffer.from('v'), Buffer.from('3'), Buffer.from('n'), Buffer.from('data'), Buffer.from('data'), data];
    const [entry, deleted] = entriesFromRead(
      [
        [
          Buffer.from('eap:events:2'),
          [
            [Buffer.from('1-0'), fields],
            ['2-0', null],
          ],
        ],
      ],
      () => 2,
    );
    expect(entry).toMatchObject({ shard: 2, key: 'eap:events:2', id: '1-0', fields: ['v', '3', 'n', 'data', 'data', data] });
    expect(entry!.fields[5]).toBe(data);
    expect(entry!.fields.slice(0, 5).every((f) => typeof f === 'string')).toBe(true);
    // A pending entry whose data was deleted reads with no fields.
    expect(deleted).toEqual({ shard: 2, key: 'eap:events:2', id: '2-0', fields: [] });
  });
});
