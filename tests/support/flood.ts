/**
 * A directory flood for the overlay's attack tests and the network benchmark: made-up SuperPeer entries whose
 * addresses accept TCP and never say a word (tarpits on 127.0.0.1), sent over a mesh link by a scripted peer
 * that proves a key of its own.
 */
import type { SuperPeerEntry } from "../../lib/net/messages.ts";
import { helloMessage, type RawPeer, rawPeer } from "./raw_peer.ts";
import { entryMessage, generateIdentity } from "../../lib/net/identity.ts";

/** `n` listeners on 127.0.0.1 that accept and never say a word. */
export function tarpits(n: number): { addrs: string[]; close: () => void } {
  const held: Deno.Conn[] = [];
  const listeners = Array.from({ length: n }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  for (const l of listeners) {
    (async () => {
      try {
        for await (const c of l) held.push(c);
      } catch { /* closed */ }
    })();
  }
  return {
    addrs: listeners.map((l) => `127.0.0.1:${(l.addr as Deno.NetAddr).port}`),
    close: () => {
      for (const l of listeners) l.close();
      for (const c of held) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

/**
 * `count` made-up entries claiming room, spread over `addrs`, each signed by a key of its own (keys are free:
 * a flood that passes the signature check, so what is tested is the directory's and the failover's bounds).
 */
export async function floodEntries(count: number, addrs: readonly string[]): Promise<SuperPeerEntry[]> {
  const now = Date.now();
  const out: SuperPeerEntry[] = [];
  for (let i = 0; i < count; i++) {
    const key = await generateIdentity();
    const e = {
      nodeId: key.nodeId,
      listen: addrs[i % addrs.length],
      peers: 0,
      load: 0,
      capacity: 10_000,
      seq: now,
    };
    out.push({ ...e, sig: (await key.sign(entryMessage(e))).toHex() });
  }
  return out;
}

/** Mesh-links to the SuperPeer on `port` as a SuperPeer and sends `entries` in pages of 500. */
export function floodDirectory(port: number, entries: SuperPeerEntry[], listen: string): Promise<RawPeer> {
  const pages = [];
  for (let i = 0; i < entries.length; i += 500) {
    pages.push({ type: "superpeers" as const, add: entries.slice(i, i + 500), remove: [] });
  }
  return rawPeer(port, helloMessage("flooder", { role: "superpeer", listen }), [{ type: "mesh" }, ...pages]);
}
