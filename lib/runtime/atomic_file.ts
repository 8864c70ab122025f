/**
 * Replacing a small file so that a crash or a power cut leaves the old contents or the new, never half of
 * them, and readers (other nodes in the same folder) never see half a file: a temporary file in the same
 * directory, flushed to disk, renamed over the old one, and the directory entry flushed too. The tracker file,
 * `wallet.json`, `bans.json` and `rpc.json` are all written this way.
 * @module
 */

/** Windows has no Unix permissions, and cannot open a directory as a file. */
const WINDOWS = Deno.build.os === "windows";

/** The fault-injection seam (`setWriteFault`): undefined in a running node. */
let writeFault: ((path: string) => void) | undefined;

/**
 * Fault injection for tests: `hook` runs in every `writeFileAtomic`, after the data is in the temporary file
 * and before the rename; when it throws, that write fails as a full disk would (the old file stays whole, the
 * temporary file is removed, the caller gets the error). `undefined` removes it. A test that counts the calls
 * can fail exactly the k-th write.
 * @example setWriteFault(() => { throw new Error("injected: disk full"); });
 */
export function setWriteFault(hook: ((path: string) => void) | undefined): void {
  writeFault = hook;
}

/**
 * Writes `data` to `path` atomically and durably. With `mode` (e.g. 0o600 for a file that holds secrets) the
 * file has exactly that mode, whatever the umask or the platform's handling of a create mode; without it a new
 * file gets the default permissions. `durable: false` leaves out the two flushes to disk (readers still see the
 * old file or the new one, never part of one): for a file that means nothing after a power cut, such as
 * `rpc.json`, which names a running process (its flushes were 15-50 ms of a node's start on a busy disk).
 * @example await writeFileAtomic(`${dataDir}/bans.json`, new TextEncoder().encode("{}\n"));
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  mode?: number,
  opts: { durable?: boolean } = {},
): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true, mode });
    try {
      for (let n = 0; n < data.length;) n += await f.write(data.subarray(n));
      if (durable) await f.sync(); // on disk before the rename makes it the file
    } finally {
      f.close();
    }
    if (mode !== undefined && !WINDOWS) await Deno.chmod(tmp, mode);
    writeFault?.(path);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  if (durable) await syncDirectory(path);
}

/** Flushes the directory entry of `path` so a rename survives a power cut; best effort. */
async function syncDirectory(path: string): Promise<void> {
  if (WINDOWS) return;
  const cut = path.lastIndexOf("/");
  const dir = cut < 0 ? "." : cut === 0 ? "/" : path.slice(0, cut);
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch { /* the file is written; only its durability across a power cut is less certain */ }
}

/**
 * The text of `path`, or undefined when there is no such file (a first start). Any other failure (no
 * permission, a directory in its place) is thrown: a file that exists but cannot be read is never taken for
 * a missing one.
 * @example const text = await readTextIfExists(`${dataDir}/bans.json`); // undefined on a first start
 */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
