/** Deterministic test inputs. */

/** Pseudo-random bytes from a seed (xorshift32), so a failure names a reproducible input. */
export function seededBytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A seeded random source in [0, 1) (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `seededRandom` as whole numbers: `rand(n)` is in [0, n). */
export function seeded(seed: number): (n: number) => number {
  const random = seededRandom(seed);
  return (n) => Math.floor(random() * n);
}

/**
 * The seed of a randomised test: `$name` from the environment when set (to replay a failure), else a fresh one.
 * The test prints it on failure with `replayHint`.
 */
export function testSeed(name: string): number {
  const given = Deno.env.get(name);
  if (given !== undefined && given !== "") {
    const n = Number(given);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${given}`);
    return n;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** How to replay a seeded test: the line to print when it fails. */
export function replayHint(name: string, seed: number, file: string): string {
  return `seed ${seed}; replay with ${name}=${seed} deno test --allow-read --allow-write --allow-run ` +
    `--allow-net=127.0.0.1 --allow-env ${file}`;
}
