/**
 * Building blocks of hostile input: a valid hello to get past the handshake, a block that is invalid, made-up
 * transactions and large blocks, and a raw connection that sends them and counts the answers. Used by the
 * attack tests and by the stress scenarios (`bench/stress/`).
 */
import { COIN } from "../../lib/consensus/amount.ts";
import { NETWORKS } from "../../lib/consensus/params.ts";
import { checkProofOfWork } from "../../lib/consensus/pow.ts";
import { type Block, blockMerkleRoot, encodeBlock } from "../../lib/primitives/block.ts";
import { blockHashSync } from "../../lib/primitives/header.ts";
import { encodeTransaction, type Transaction } from "../../lib/primitives/transaction.ts";
import { solveSync } from "../../lib/mining/template.ts";
import { encodeFrame } from "../../lib/net/frame.ts";
import { waitFor, type WaitOptions } from "./wait.ts";
import { concatBytes } from "../../lib/http/bounded_server.ts";
import { PROTOCOL_VERSION } from "../../lib/net/messages.ts";
import { freshNonce, generateIdentity, type NodeIdentity, proofMessage } from "../../lib/net/identity.ts";

const REGTEST = NETWORKS.regtest;

/** The bytes of `parts`, one after another: frames and pieces of frames, as a socket writes them. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** A frame around arbitrary body bytes, with a correct length prefix (the body need not be JSON). */
export function rawFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** A framed, valid regtest `hello` from `nodeId`, with fields overridden by `over`. */
export function helloFrame(nodeId: string, over: Record<string, unknown> = {}): Uint8Array {
  return encodeFrame({
    type: "hello",
    protocol: PROTOCOL_VERSION,
    network: "regtest",
    genesis: REGTEST.genesisHash,
    nodeId,
    listen: null,
    address: "hostile",
    tip: { hash: REGTEST.genesisHash, height: 0, work: "1" },
    role: "peer",
    since: null,
    members: 0,
    ...over,
  });
}

/** The far end's first frame of `type` and the bytes that came after it (a frame may have been cut). */
export async function readFrame(
  conn: Deno.Conn,
  type: string,
  pending: Uint8Array = new Uint8Array(0),
): Promise<{ body: Record<string, unknown>; rest: Uint8Array }> {
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    while (pending.length >= 4) {
      const len = new DataView(pending.buffer, pending.byteOffset, 4).getUint32(0);
      if (pending.length - 4 < len) break;
      const body = JSON.parse(new TextDecoder().decode(pending.subarray(4, 4 + len)));
      pending = pending.slice(4 + len);
      if (body.type === type) return { body, rest: pending };
    }
    const n = await conn.read(buf);
    if (n === null) throw new Error(`closed before a ${type} came`);
    pending = concat(pending, buf.subarray(0, n));
  }
}

/**
 * A handshake as protocol 3 wants it on a raw socket: our hello with a fresh nonce (as `identity`, by default a
 * fresh key of our own; `over` overrides hello fields, `nodeId` among them, to lie), the far end's hello, then
 * our proof. Returns the far end's hello, our identity and the bytes read past the hello.
 */
export async function handshake(
  conn: Deno.Conn,
  opts: { identity?: NodeIdentity; over?: Record<string, unknown>; listen?: string | null } = {},
): Promise<{ hub: Record<string, unknown>; identity: NodeIdentity; rest: Uint8Array }> {
  const identity = opts.identity ?? await generateIdentity();
  const nonce = freshNonce();
  const listen = opts.listen ?? null;
  const hello = { listen, nonce, ...opts.over };
  await writeAll(conn, helloFrame(identity.nodeId, hello));
  const { body: hub, rest } = await readFrame(conn, "hello");
  const signature = await identity.sign(proofMessage({
    protocol: PROTOCOL_VERSION,
    network: "regtest",
    genesis: REGTEST.genesisHash,
    signer: (hello as { nodeId?: string }).nodeId ?? identity.nodeId,
    other: String(hub.nodeId),
    signerNonce: nonce,
    otherNonce: String(hub.nonce),
    listen: listen ?? "",
  }));
  await writeAll(conn, encodeFrame({ type: "proof", signature: signature.toHex() }));
  return { hub, identity, rest };
}

/** Writes `bytes`, ignoring a broken pipe: the far end may cut us off mid-write. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  try {
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  } catch { /* closed by the far end */ }
}

/** A framed `join`: after its hello, what a node sends a SuperPeer to be served by it. */
export function joinFrame(primary = true): Uint8Array {
  return encodeFrame({ type: "join", primary });
}

/** A block on `tip` whose hash misses its target; every other field is right. */
export function badPowBlock(tip: { tip: string; height: number }): Uint8Array {
  const coinbase: Transaction = {
    version: 1,
    inputs: [],
    outputs: [{ amount: 50 * COIN, pubKeyHash: "00".repeat(20) }],
    lockTime: tip.height + 1,
  };
  const header = {
    version: 1,
    prevHash: tip.tip,
    merkleRoot: blockMerkleRoot([coinbase]),
    time: Math.floor(Date.now() / 1000),
    bits: 0x207fffff,
    nonce: 0,
  };
  while (checkProofOfWork(blockHashSync(header), header.bits)) header.nonce++;
  return encodeBlock({ header, txs: [coinbase] });
}

/** Deterministic bytes for the attacker's made-up keys, txids and signatures. */
export function bytesFrom(rand: (n: number) => number, n: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: n }, () => rand(256));
}

/**
 * A well-formed transaction of `inputs` inputs spending outpoints nobody has (15,150 make 2 MB, the attack's
 * size; 740 stay just under the 100 kB standard limit), with made-up keys and signatures.
 */
export function fakeTx(inputs: number, rand: (n: number) => number): Uint8Array {
  const tx: Transaction = {
    version: 1,
    inputs: Array.from({ length: inputs }, (_, i) => ({
      prevout: { txid: bytesFrom(rand, 32).toHex(), index: i },
      publicKey: bytesFrom(rand, 32),
      signature: bytesFrom(rand, 64),
    })),
    outputs: [{ amount: 1000, pubKeyHash: bytesFrom(rand, 20).toHex() }],
    lockTime: 0,
  };
  return encodeTransaction(tx);
}

/**
 * A solved regtest block of about `bytes` bytes on `prevHash` at `height`: a coinbase with as many outputs as
 * fit (all but one worth nothing), so it is valid wherever its parent is; `salt` makes each one different.
 */
export function bigBlock(prevHash: string, height: number, time: number, bytes: number, salt: number): Block {
  const outputs = Math.floor((bytes - 200) / 28);
  const pkh = (salt >>> 0).toString(16).padStart(8, "0").repeat(5);
  const coinbase: Transaction = {
    version: 1,
    inputs: [],
    outputs: Array.from({ length: outputs }, (_, i) => ({ amount: i === 0 ? 1 : 0, pubKeyHash: pkh })),
    lockTime: height,
  };
  const header = {
    version: 1,
    prevHash,
    merkleRoot: blockMerkleRoot([coinbase]),
    time,
    bits: REGTEST.genesis.header.bits,
    nonce: 0,
  };
  return solveSync({ header, txs: [coinbase] });
}

/** A raw connection that has said hello; counts the frames the hub sends it by type. */
export class Attacker {
  readonly received = new Map<string, number>();
  /** True once the hub closed the connection. */
  isClosed = false;
  /** Resolves when the connection is closed, by either end. */
  readonly closed: Promise<void>;
  #conn: Deno.TcpConn;
  #closedByUs = false;

  private constructor(conn: Deno.TcpConn, pending: Uint8Array) {
    this.#conn = conn;
    this.closed = this.#read(pending);
  }

  /** Dials the hub on `port`, proves a fresh key of its own in the handshake and asks to be served (`join`). */
  static async open(port: number): Promise<Attacker> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const { rest } = await handshake(conn);
    const a = new Attacker(conn, rest);
    a.received.set("hello", 1);
    await a.send(joinFrame(true));
    return a;
  }

  /** Writes a frame; false when the hub had already cut the connection. */
  async send(frame: Uint8Array): Promise<boolean> {
    try {
      for (let off = 0; off < frame.length;) off += await this.#conn.write(frame.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  /** Frames of `type` received so far. */
  count(type: string): number {
    return this.received.get(type) ?? 0;
  }

  /** Closes our end and waits for the reader. */
  async close(): Promise<void> {
    this.#closedByUs = true;
    try {
      this.#conn.close();
    } catch { /* closed by the hub */ }
    await this.closed;
  }

  /** Reads and counts frames (only each body's first bytes are looked at: the type comes first). */
  async #read(pending: Uint8Array): Promise<void> {
    const buf = new Uint8Array(256 * 1024);
    const dec = new TextDecoder();
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        const joined = new Uint8Array(pending.length + n);
        joined.set(pending);
        joined.set(buf.subarray(0, n), pending.length);
        let off = 0;
        while (joined.length - off >= 4) {
          const len = new DataView(joined.buffer, off, 4).getUint32(0);
          if (joined.length - off - 4 < len) break;
          const head = dec.decode(joined.subarray(off + 4, off + 4 + Math.min(len, 40)));
          const type = /^\{"type":"([a-z]+)"/.exec(head)?.[1] ?? "?";
          this.received.set(type, (this.received.get(type) ?? 0) + 1);
          if (type === "ping") {
            // Answered, so the hub cuts us for what we send, not for silence.
            const { nonce } = JSON.parse(dec.decode(joined.subarray(off + 4, off + 4 + len)));
            this.send(encodeFrame({ type: "pong", nonce }));
          }
          off += 4 + len;
        }
        pending = joined.slice(off);
      }
    } catch { /* reset */ }
    if (!this.#closedByUs) this.isClosed = true;
  }
}

/** Bytes of a node's store files (the database and its write-ahead log). */
export async function storeBytes(node: { dataDir: string }): Promise<number> {
  let total = 0;
  for (const name of ["chain.sqlite", "chain.sqlite-wal"]) {
    total += await Deno.stat(`${node.dataDir}/${name}`).then((s) => s.size, () => 0);
  }
  return total;
}

/**
 * Pushes `node` (which has mined block 1) a competitor of block 1 of about `bytes` bytes and equal work, from a
 * raw peer, and waits until it keeps it: off the best chain, never relayed, a target for `getdata` attacks.
 * Its time is 10 minutes ahead, past blocks mined in a burst. Returns its hash.
 */
export async function pushSideBlock(
  node: { port: number; rpc(method: string, params?: unknown[]): Promise<unknown> },
  bytes: number,
  timeoutMs: number,
  wait: WaitOptions = {},
): Promise<string> {
  const side = bigBlock(REGTEST.genesisHash, 1, Math.floor(Date.now() / 1000) + 600, bytes, 1);
  const hash = blockHashSync(side.header);
  const pusher = await Attacker.open(node.port);
  try {
    await pusher.send(encodeFrame({ type: "block", data: encodeBlock(side).toHex() }));
    await waitFor(
      () => node.rpc("block", [hash]).then(() => true, () => false),
      timeoutMs,
      "the node to keep the side block",
      wait,
    );
  } finally {
    await pusher.close();
  }
  return hash;
}
