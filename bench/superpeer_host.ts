/**
 * One SuperPeer in a process of its own, for `bench/network_scale.ts`'s memory figures: the real `Network` with
 * a light ledger (lib/sim), listening on 127.0.0.1. Each line `mem` on stdin collects garbage and answers one
 * JSON line on stdout (after a first line `ready`): resident memory, the live V8 heap, memory outside it, and the greeted links.
 *
 * `deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/superpeer_host.ts PORT MAX_PEERS`
 * @module
 */
import { generateIdentity } from "../lib/net/identity.ts";
import { Network } from "../lib/net/network.ts";
import { BlockStore, SimLedger, wallClock } from "../lib/sim/sim_ledger.ts";
import { memoryTracker } from "../lib/sim/world.ts";

/** One answer to `mem`, in bytes. */
export interface HostMemory {
  rss: number;
  heapUsed: number;
  external: number;
  links: number;
}

if (import.meta.main) {
  const [port, maxPeers] = Deno.args.map(Number);
  const clock = wallClock();
  const net = new Network(new SimLedger(new BlockStore(clock), "host", clock), {
    identity: await generateIdentity(),
    bind: { hostname: "127.0.0.1", port },
    tracker: memoryTracker([]), // nobody to join: it becomes a SuperPeer
    maxPeers,
  });
  await net.start();
  const out = new TextEncoder();
  await Deno.stdout.write(out.encode("ready\n"));
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    if (!line.includes("mem")) continue;
    gc();
    gc();
    const m = Deno.memoryUsage();
    const answer: HostMemory = {
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      links: net.linkCount,
    };
    await Deno.stdout.write(out.encode(JSON.stringify(answer) + "\n"));
  }
  await net.stop();
}
