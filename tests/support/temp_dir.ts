/** A temporary folder for one test: made, handed to the test, removed afterwards, also when the test fails. */

/** Runs `fn` with a fresh temporary folder (named with `prefix`) and removes it afterwards. */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T> | T,
  prefix = "peerchain-test-",
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The names of what `dir` holds, sorted: to check that nothing was left behind or made. */
export async function namesIn(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}
