/**
 * A child process for the small-file crash tests, stopped dead by SIGKILL at a random moment: it bans one host
 * after another and rewrites the tracker file after each ban.
 *
 * `deno run --allow-read --allow-write atomic_child.ts <dir>` bans `10.0.<i / 256>.<i % 256>` for i = 0, 1, ...,
 * waits until `<dir>/bans.json` has it, writes `<dir>/server_tracker.txt` as the single address
 * `127.0.0.1 <20000 + i>`, and prints `saved <i>`: every printed i is on disk.
 * @module
 */
import { BanList } from "../../lib/net/ban.ts";
import { writeTracker } from "../../lib/net/tracker.ts";

/** The host the child bans at step `i`. */
export function childHost(i: number): string {
  return `10.0.${i >> 8}.${i & 255}`;
}

/** The tracker port the child writes at step `i`. */
export function childPort(i: number): number {
  return 20_000 + i;
}

if (import.meta.main) {
  const dir = Deno.args[0];
  const bans = await BanList.open(`${dir}/bans.json`);
  for (let i = 0; i < 60_000; i++) {
    bans.ban(childHost(i));
    await bans.flush();
    await writeTracker(`${dir}/server_tracker.txt`, [{ hostname: "127.0.0.1", port: childPort(i) }]);
    console.log(`saved ${i}`);
  }
}
