/**
 * A scripted peer for attack tests: a real `Connection` over TCP to a node under test on 127.0.0.1, so it
 * answers pings like a live node, sends whatever hello and messages the test wants, and records what comes
 * back. It proves a key of its own in the handshake (protocol 3), so what it says next is judged on its
 * merits, not refused for a missing proof; told to keep the hello's node id, it claims one it cannot prove.
 */
import { Connection } from "../../lib/net/connection.ts";
import type { Message } from "../../lib/net/messages.ts";
import { PROTOCOL_VERSION } from "../../lib/net/messages.ts";
import { tcpTransport } from "../../lib/net/transport.ts";
import { NETWORKS } from "../../lib/consensus/params.ts";
import { freshNonce, generateIdentity, type NodeIdentity, proofMessage } from "../../lib/net/identity.ts";

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

/** How a scripted peer proves (or fails to prove) its node id. */
export interface RawPeerOptions {
  /** Its key (default: a fresh one). */
  identity?: NodeIdentity;
  /** Keep the hello's node id instead of the key's: an id claimed without its key (impersonation). */
  keepId?: boolean;
}

/**
 * Dials 127.0.0.1:`port`, sends `hello` (with a fresh nonce and, unless `keepId`, its key's node id), proves
 * it once the far end's hello came, then sends `then` (an older protocol's hello: nothing more), and keeps
 * answering pings until closed.
 */
export async function rawPeer(
  port: number,
  hello: Message,
  then: Message[] = [],
  opts: RawPeerOptions = {},
): Promise<RawPeer> {
  const identity = opts.identity ?? await generateIdentity();
  const h = { ...hello, nonce: freshNonce() } as Record<string, unknown>;
  if (!opts.keepId) h.nodeId = identity.nodeId;
  const got: Message[] = [];
  const stream = await tcpTransport.dial({ hostname: "127.0.0.1", port }, 2000);
  let proved = false;
  const conn: Connection = new Connection(stream, {
    onMessage: (m) => {
      got.push(m);
      // An older protocol's hello is refused on sight: nothing more is sent (bytes the far end has not read
      // when it closes turn its close into a reset, which can swallow its reject).
      if (m.type !== "hello" || proved || h.protocol !== PROTOCOL_VERSION) return;
      proved = true;
      // Signed aside, so what follows the hello (a reject, say) is still read while the proof is made.
      void prove(m);
    },
    pingIntervalMs: 1000,
  });
  const prove = async (m: Extract<Message, { type: "hello" }>) => {
    const signature = await identity.sign(proofMessage({
      protocol: Number(h.protocol),
      network: String(h.network),
      genesis: String(h.genesis),
      signer: String(h.nodeId),
      other: m.nodeId,
      signerNonce: String(h.nonce),
      otherNonce: m.nonce ?? "",
      listen: typeof h.listen === "string" ? h.listen : "",
    }));
    conn.send({ type: "proof", signature: signature.toHex() });
    for (const x of then) conn.send(x);
  };
  conn.send(h as unknown as Message);
  return { conn, got };
}

/**
 * A node of the previous protocol (2), in process: it dials 127.0.0.1:`port`, sends a protocol-2 hello (no
 * nonce, a node id it does not prove: `over` may change any field), and once the far end's hello came sends
 * `then` (a `join`, say), as a protocol-2 node did; it answers pings until closed.
 */
export async function legacyPeer(
  port: number,
  nodeId: string,
  over: Record<string, unknown> = {},
  then: Message[] = [],
): Promise<RawPeer> {
  const got: Message[] = [];
  const stream = await tcpTransport.dial({ hostname: "127.0.0.1", port }, 2000);
  const conn: Connection = new Connection(stream, {
    onMessage: (m) => {
      got.push(m);
      if (m.type === "hello") { for (const x of then) conn.send(x); }
    },
    pingIntervalMs: 1000,
  });
  conn.send(helloMessage(nodeId, { protocol: 2, ...over }));
  return { conn, got };
}
