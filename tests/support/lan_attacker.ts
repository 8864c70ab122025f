/**
 * A hostile LAN host, run inside its own network namespace by the LAN test (never outside one): it opens
 * many sockets from its one address to a node, each with a forged hello that claims to be the largest and
 * oldest SuperPeer, asks for a mesh link and answers pings so that it looks alive; as a `liar` it also sends
 * forged directory entries and the old protocol's `yield`. It prints one JSON line: how many sockets it
 * opened, how many the node greeted, and how many were still open when it stopped.
 *
 * `deno run --allow-read --allow-net lan_attacker.ts idle|liar HOST:PORT OWN_IP SOCKETS SECONDS`
 */
import { Connection } from "../../lib/net/connection.ts";
import { type Message, parseHostPort } from "../../lib/net/messages.ts";
import { tcpTransport } from "../../lib/net/transport.ts";
import { helloMessage } from "./raw_peer.ts";

const [mode, target, ownIp, sockets, seconds] = Deno.args;
const addr = parseHostPort(target);
if (!addr.hostname.startsWith("10.200.")) throw new Error("the attacker only runs inside the test LAN");
const claims = { role: "superpeer", since: 1, members: 2 ** 40, listen: `${ownIp}:18765` };
const forged = Array.from({ length: 20 }, (_, i) => ({
  nodeId: `forged-${i}`,
  listen: `${ownIp}:${20000 + i}`,
  peers: 2 ** 40,
  load: 0,
  capacity: 2 ** 40,
  seq: Date.now() + 60_000,
}));
const conns: { conn: Connection; greeted: boolean }[] = [];
for (let i = 0; i < Number(sockets); i++) {
  try {
    const stream = await tcpTransport.dial(addr, 2000);
    const entry = { conn: undefined as unknown as Connection, greeted: false };
    entry.conn = new Connection(stream, {
      onMessage: (m) => {
        if (m.type === "hello") entry.greeted = true;
      },
      pingIntervalMs: 500,
    });
    entry.conn.send(helloMessage(`attacker-${i}`, claims));
    entry.conn.send({ type: "mesh" });
    if (mode === "liar") {
      entry.conn.send({ type: "superpeers", add: forged, remove: [] } as Message);
      entry.conn.send({ type: "yield", hub: claims.listen } as unknown as Message);
    }
    conns.push(entry);
  } catch { /* refused: counted as not opened */ }
}
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
console.log(JSON.stringify({
  opened: conns.length,
  greeted: conns.filter((c) => c.greeted).length,
  open: conns.filter((c) => !c.conn.isClosed).length,
}));
for (const c of conns) await c.conn.close("done");
