/**
 * A scripted peer for attack tests: a real `Connection` over TCP to a node under test on 127.0.0.1, so it
 * answers pings like a live node, sends whatever hello and messages the test wants, and records what comes
 * back.
 */
import { Connection } from "../../lib/net/connection.ts";
import type { Message } from "../../lib/net/messages.ts";
import { PROTOCOL_VERSION } from "../../lib/net/messages.ts";
import { tcpTransport } from "../../lib/net/transport.ts";
import { NETWORKS } from "../../lib/consensus/params.ts";

/** A connected scripted peer. */
export interface RawPeer {
  conn: Connection;
  /** Every message received, in order. */
  got: Message[];
}

/** A regtest hello from `nodeId`, with fields overridden by `over` (they may be anything: it is a test). */
export function helloMessage(nodeId: string, over: Record<string, unknown> = {}): Message {
  const g = NETWORKS.regtest.genesisHash;
  return {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    network: "regtest",
    genesis: g,
    nodeId,
    listen: null,
    address: "scripted",
    tip: { hash: g, height: 0, work: "1" },
    role: "peer",
    ...over,
  } as Message;
}

/** Dials 127.0.0.1:`port`, sends `hello` then `then`, and keeps answering pings until closed. */
export async function rawPeer(port: number, hello: Message, then: Message[] = []): Promise<RawPeer> {
  const got: Message[] = [];
  const stream = await tcpTransport.dial({ hostname: "127.0.0.1", port }, 2000);
  const conn = new Connection(stream, { onMessage: (m) => void got.push(m), pingIntervalMs: 1000 });
  conn.send(hello);
  for (const m of then) conn.send(m);
  return { conn, got };
}
