/**
 * The bytes PostgreSQL's COPY text format escapes, each with the letter that follows the backslash
 * written in its place: a backslash, a tab, a line feed and a carriage return. The one definition
 * for the decoder, which notes whether an event's JSON holds any of them, and for the worker,
 * which escapes them.
 */
export const COPY_ESCAPES: readonly (readonly [byte: number, letter: number])[] = [
  [0x5c, 0x5c],
  [0x09, 0x74],
  [0x0a, 0x6e],
  [0x0d, 0x72],
];
