/**
 * Seeded random numbers for the simulation: one independent stream per purpose (latency, churn, each node's
 * network), so drawing more numbers for one purpose never shifts another and a seed replays a run exactly.
 * @module
 */

/** Random numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/** SplitMix32: spreads a seed over 32 bits (also used to derive stream seeds). */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A 32-bit hash of a label, so streams can be named ("latency", "node 17"). */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A seeded generator (SFC32) for stream `label` of `seed`.
 * @example const r = seededRandom(1, "latency"); r() === seededRandom(1, "latency")() // true
 */
export function seededRandom(seed: number, label = ""): Random {
  let a = splitmix32(seed >>> 0), b = splitmix32(a ^ hashLabel(label)), c = splitmix32(b), d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // SFC32's first outputs are weak
  return next;
}

/** An integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}
