/**
 * A lying SuperPeer for the overlay's attack tests, in the test's own process on 127.0.0.1: it proves a key of
 * its own (a liar can make keys), claims capacity 10,000 with load 0, mesh-links to an honest SuperPeer so its
 * entry spreads, and answers every `join` with `full` and `promote: true` (and every `mesh` with a welcome, so
 * it looks alive). It relays nothing. Counts the joins it turned away.
 */
import { Connection } from "../../lib/net/connection.ts";
import { entryMessage, generateIdentity, type NodeIdentity, proofMessage } from "../../lib/net/identity.ts";
import type { HelloMessage, Message, SuperPeerEntry } from "../../lib/net/messages.ts";
import { type Listener, tcpTransport } from "../../lib/net/transport.ts";
import { freshNonce } from "../../lib/net/identity.ts";
import { helloMessage, type RawPeer, rawPeer } from "./raw_peer.ts";

/** A running liar. */
export interface Liar {
  /** Its proven node id. */
  nodeId: string;
  /** Where it listens. */
  listen: string;
  /** Joins it answered with `full` + `promote`, by the asker's listen address. */
  joins: string[];
  /** Connections it accepted. */
  accepted: number;
  /** Its entry, signed by its own key (capacity 10,000, load 0: signed, and a lie). */
  entry: () => Promise<SuperPeerEntry>;
  /** Mesh-links to the honest SuperPeer on `port` and sends its entry there. */
  meshWith(port: number): Promise<RawPeer>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Starts a liar on 127.0.0.1 with a fresh key. With `redirectTo`, it answers every `join`, `mesh` and
 * `getaddr` with a redirect to those addresses instead (a redirect storm's node).
 */
export async function startLiar(opts: { redirectTo?: () => string[] } = {}): Promise<Liar> {
  const identity: NodeIdentity = await generateIdentity();
  const listener: Listener = tcpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const listen = `127.0.0.1:${listener.addr.port}`;
  const conns: Connection[] = [];
  const raws: RawPeer[] = [];
  const joins: string[] = [];
  const entry = async (): Promise<SuperPeerEntry> => {
    const e = { nodeId: identity.nodeId, listen, peers: 0, load: 0, capacity: 10_000, seq: Date.now() };
    return { ...e, sig: (await identity.sign(entryMessage(e))).toHex() };
  };
  const counts = { accepted: 0 };
  const accept = (async () => {
    for await (const stream of listener) {
      counts.accepted++;
      const mine = {
        ...(helloMessage(identity.nodeId, { role: "superpeer", listen }) as HelloMessage),
        nonce: freshNonce(),
      };
      let theirs: HelloMessage | undefined;
      const conn: Connection = new Connection(stream, {
        pingIntervalMs: 1000,
        onMessage: async (m: Message) => {
          if (m.type === "hello" && !theirs) {
            theirs = m;
            const signature = await identity.sign(proofMessage({
              protocol: mine.protocol,
              network: mine.network,
              genesis: mine.genesis,
              signer: identity.nodeId,
              other: m.nodeId,
              signerNonce: mine.nonce,
              otherNonce: m.nonce ?? "",
              listen,
            }));
            conn.send({ type: "proof", signature: signature.toHex() });
          } else if (opts.redirectTo && (m.type === "join" || m.type === "mesh" || m.type === "getaddr")) {
            conn.send({ type: "redirect", to: opts.redirectTo() });
            await conn.close("redirected", { flush: true });
          } else if (m.type === "join") {
            joins.push(theirs?.listen ?? "?");
            conn.send({ type: "full", try: [], promote: true });
            await conn.close("full", { flush: true });
          } else if (m.type === "mesh") {
            conn.send({ type: "welcome", superpeers: [await entry()], members: [] });
          }
        },
      });
      conns.push(conn);
      conn.send(mine);
    }
  })();
  const liar: Liar = {
    nodeId: identity.nodeId,
    listen,
    joins,
    get accepted() {
      return counts.accepted;
    },
    entry,
    async meshWith(port) {
      const raw = await rawPeer(port, helloMessage("liar", { role: "superpeer", listen }), [
        { type: "mesh" },
        { type: "superpeers", add: [await entry()], remove: [] },
      ], { identity });
      raws.push(raw);
      return raw;
    },
    async close() {
      listener.close();
      await accept.catch(() => {});
      await Promise.all([...conns, ...raws.map((r) => r.conn)].map((c) => c.close("done")));
    },
  };
  return liar;
}
