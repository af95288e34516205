/** A small seeded PRNG (mulberry32): the same seed gives the same traffic, run after run. */
export function createRandom(seed: number) {
  let a = seed >>> 0;
  function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  return {
    next,
    /** Integer in [0, n). */
    int: (n: number): number => Math.floor(next() * n),
    chance: (p: number): boolean => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    /** Zipf-like pick: low indexes are much more likely (popular pages, big countries). */
    skewed: <T>(items: readonly T[]): T => items[Math.min(items.length - 1, Math.floor(items.length * next() ** 3))]!,
  };
}
export type Random = ReturnType<typeof createRandom>;
