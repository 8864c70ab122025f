/**
 * Hostile beacons on the test LAN, run inside a host's network namespace by the LAN test (never outside one:
 * it refuses any address outside 10.200.0.0/16). Two modes:
 *
 * - `other-genesis OWN_IP DIR`: a host of another chain. It broadcasts a query for another genesis block on its
 *   subnet every 250 ms (and counts the answers it gets), answers every query it hears as a SuperPeer of that
 *   other chain, and counts the TCP dials its listen address receives.
 * - `forge OWN_IP DIR DEAD_IPS TARPIT_PORT`: a forger. It answers every query, copying its network, genesis
 *   and nonce, once from each dead address (`Lan.deadAddresses`: reachable by nobody) naming port 18765, and
 *   once from its own address naming `TARPIT_PORT`, where it accepts connections and never says a word.
 *
 * It is ready once UDP port 18765 is bound in its namespace (bound last), stops when `DIR/stop` appears (or
 * after 120 s), and then prints one JSON line with its counts.
 *
 * `deno run --allow-read --allow-net lan_beacons.ts MODE OWN_IP DIR [DEAD_IPS TARPIT_PORT]`
 */
import dgram from "node:dgram";
import { NETWORKS } from "../../lib/consensus/params.ts";
import { decodeBeacon, encodeBeacon } from "../../lib/net/beacon.ts";

const [mode, ownIp, dir, deadArg, tarpitArg] = Deno.args;
const dead = deadArg ? deadArg.split(",").filter(Boolean) : [];
for (const a of [ownIp, ...dead]) {
  if (!/^10\.200\.\d+\.\d+$/.test(a)) throw new Error(`lan_beacons only runs inside the test LAN, not ${a}`);
}
const PORT = NETWORKS.regtest.defaultPort;
const OTHER_GENESIS = "ab".repeat(32);
const broadcast = ownIp.replace(/\.\d+$/, ".255"); // the test LAN's /24
const counts = {
  queriesHeard: 0,
  answersSent: 0,
  queriesSent: 0,
  answersReceived: 0,
  tcpAccepted: 0,
};

const bound = (s: dgram.Socket, port: number, host: string) =>
  new Promise<void>((resolve) => s.bind(port, host, () => resolve()));

// TCP: the other chain's listen address, or the forger's silent port.
const tcpPort = mode === "forge" ? Number(tarpitArg) : PORT;
const listener = Deno.listen({ hostname: ownIp, port: tcpPort });
const held: Deno.Conn[] = [];
(async () => {
  for await (const c of listener) {
    counts.tcpAccepted++;
    held.push(c); // never a word
  }
})().catch(() => {});

const server = dgram.createSocket({ type: "udp4", reuseAddr: true });
const deadSockets: dgram.Socket[] = [];
for (const a of dead) {
  const s = dgram.createSocket("udp4");
  await bound(s, 0, a);
  deadSockets.push(s);
}
let seeker: dgram.Socket | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

server.on("message", (msg: Uint8Array, r: dgram.RemoteInfo) => {
  const q = decodeBeacon(new Uint8Array(msg));
  if (q?.kind !== "query" || r.address === ownIp) return;
  counts.queriesHeard++;
  const reply = (s: dgram.Socket, bytes: Uint8Array) => {
    counts.answersSent++;
    s.send(bytes, r.port, r.address);
  };
  if (mode === "other-genesis") {
    reply(server, encodeBeacon({ ...q, kind: "answer", genesis: OTHER_GENESIS, port: PORT }));
  } else {
    for (const s of deadSockets) reply(s, encodeBeacon({ ...q, kind: "answer", port: PORT }));
    reply(server, encodeBeacon({ ...q, kind: "answer", port: Number(tarpitArg) }));
  }
});

if (mode === "other-genesis") {
  seeker = dgram.createSocket("udp4");
  await bound(seeker, 0, ownIp);
  seeker.setBroadcast(true);
  seeker.on("message", (msg: Uint8Array) => {
    if (decodeBeacon(new Uint8Array(msg))?.kind === "answer") counts.answersReceived++;
  });
  let n = 0;
  timer = setInterval(() => {
    const nonce = (n++).toString(16).padStart(16, "0");
    const q = encodeBeacon({ kind: "query", network: "regtest", genesis: OTHER_GENESIS, nonce });
    counts.queriesSent++;
    seeker!.send(q, PORT, broadcast);
  }, 250);
}

await bound(server, PORT, "0.0.0.0"); // last: the test waits for this port
const end = Date.now() + 120_000;
while (Date.now() < end) {
  try {
    await Deno.stat(`${dir}/stop`);
    break;
  } catch { /* not yet */ }
  await new Promise((r) => setTimeout(r, 100));
}
clearInterval(timer);
console.log(JSON.stringify(counts));
for (const s of [server, seeker, ...deadSockets]) s?.close();
listener.close();
for (const c of held) c.close();
