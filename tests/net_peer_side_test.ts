/**
 * A Peer's side (`PeerSide`, lib/net/peer_side.ts) with its hooks faked: what it asks of the network when the
 * stale-tip check's extra SuperPeer is kept.
 */
import assert from "node:assert/strict";
import type { AddressBook } from "../lib/net/address_book.ts";
import { Directory } from "../lib/net/directory.ts";
import type { Link } from "../lib/net/link.ts";
import type { LinkState, RoleState } from "../lib/net/link_state.ts";
import { PeerSide } from "../lib/net/peer_side.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";

/** A link to a SuperPeer whose hello claims `work` (hex), with the frames sent on it. */
function fakeLink(n: number, work: string): Link & { sent: string[] } {
  const sent: string[] = [];
  let close!: () => void;
  const closed = new Promise<void>((resolve) => close = resolve);
  return {
    sent,
    inbound: false,
    openedAt: 0,
    hello: {
      type: "hello",
      nodeId: `sp${n}`,
      listen: `10.0.0.${n}:8765`,
      tip: { hash: "00".repeat(32), height: 1, work },
    },
    conn: {
      remote: { hostname: `10.0.0.${n}`, port: 8765 },
      closed,
      send: (m: { type: string }) => void sent.push(m.type),
      close: () => close(),
    },
  } as unknown as Link & { sent: string[] };
}

Deno.test("a SuperPeer kept by the stale-tip trial is made ready for relay once: the mempool's inventory goes to it once, not again when it takes the backup's place", async () => {
  const clock = new VirtualClock();
  const [primary, backup, extra] = [fakeLink(1, "1"), fakeLink(2, "1"), fakeLink(3, "ff")];
  const role: RoleState = { kind: "peer", primary, backup };
  const superpeer = (primary: boolean): LinkState => ({
    kind: "superpeer",
    primary,
    roster: [],
    dir: new Directory(),
    addr: "x",
  });
  const states = new Map<Link, LinkState>([
    [primary, superpeer(true)],
    [backup, superpeer(false)],
    [extra, superpeer(false)],
  ]);
  const ready: Link[] = [];
  const side = new PeerSide({
    clock,
    random: () => 0.5,
    book: {} as AddressBook,
    capacity: 8,
    joining: {
      seekSecond: async () => {},
      staleTip: async () => {},
      markDead: () => {},
      lostAll: async () => {},
    },
    stopping: () => false,
    role: () => role,
    setRole: () => {},
    states: () => states,
    forget: (l) => void states.delete(l),
    tipWork: () => 1n,
    relayReady: (l) => void ready.push(l),
    writeTracker: () => {},
    emit: () => {},
  });
  const kept = side.extraSuperPeer(extra);
  assert.deepEqual(ready, [extra], "the trial's download starts at once");
  side.delivered(extra); // a block this node lacked came from it
  assert.equal(await kept, "kept");
  assert.equal(role.kind === "peer" && role.backup, extra, "it took the backup's place");
  assert.deepEqual(ready, [extra], "made ready once: its download and our inventory are not started again");
});
