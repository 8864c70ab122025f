/**
 * Every bound at N−1, N and N+1, per dimension it bounds (count and bytes), generated from one table. Each
 * row fills a fresh pool, as wired (the defaults a node runs with), with n of what the bound counts and reads
 * back what the pool holds: up to N everything is held; at N+1 the pool stays within N. A limit added to
 * lib/consensus/policy.ts, lib/net/frame.ts or lib/net/config.ts without a row here (or a stated reason it has
 * none) fails the first test. The fee-rate eviction at "lower", "equal" and "higher" is the last table.
 */
import assert from "node:assert/strict";
import type { Chain } from "../lib/chain/chain.ts";
import { Mempool } from "../lib/chain/mempool.ts";
import { OrphanTxs } from "../lib/chain/orphan_txs.ts";
import * as policy from "../lib/consensus/policy.ts";
import { AddressBook } from "../lib/net/address_book.ts";
import { BanList } from "../lib/net/ban.ts";
import * as config from "../lib/net/config.ts";
import { foundAddresses, localSubnets } from "../lib/net/beacon.ts";
import { Directory } from "../lib/net/directory.ts";
import { entryBytes, GossipBudget, WantList } from "../lib/net/dir_gossip.ts";
import { CompactRelay, MAX_WAITING_COMPACT, MAX_WAITING_COMPACT_BYTES } from "../lib/net/compact_relay.ts";
import { BlockSync, SYNC_PER_LINK, SYNC_WINDOW, SYNC_WINDOW_BYTES } from "../lib/net/block_sync.ts";
import type { LedgerPort } from "../lib/net/ledger_port.ts";
import type { Link } from "../lib/net/link.ts";
import { MAX_BLOCKTXN, MAX_HASHES, parseMessage } from "../lib/net/messages.ts";
import { ServeQueue } from "../lib/net/serve.ts";
import { MAX_SHORT_IDS } from "../lib/primitives/compact_block.ts";
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME } from "../lib/net/frame.ts";
import type { TrackerFile } from "../lib/net/tracker.ts";
import type { BlockHeader } from "../lib/primitives/header.ts";
import {
  compactSizeLength,
  type OutPoint,
  type Transaction,
  txid,
  txSize,
} from "../lib/primitives/transaction.ts";
import { EventStreams } from "../lib/explorer/events.ts";
import { VerifyQueue } from "../lib/crypto/verify_queue.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";
import { type SimNode, World } from "../lib/sim/world.ts";
import { SIM_PORT } from "../lib/sim/memory_transport.ts";
import { makeBlock, mine, newKey, newLedger, spend, type TestKey } from "./support/ledger.ts";
import { COIN_AMOUNT, fundedLedger } from "./support/rules.ts";
import { seededBytes } from "./support/random.ts";

/** One bound: its name where it is defined, N, and a probe that fills a fresh pool with n and reads it back. */
interface Bound {
  /** The constant's name (or the option's, for a bound without one). */
  name: string;
  /** What it bounds, and in which dimension. */
  what: string;
  dimension: "count" | "bytes";
  limit: number;
  /** Past N the pool sheds to a marker rather than dropping down to N (the explorer's event queues). */
  sheds?: boolean;
  /** The smallest step the dimension can take (2 for packages: every transaction's size is even). */
  step?: number;
  /** Fills a fresh pool with `n` (items, or bytes) and returns what it holds afterwards, in the same unit. */
  probe(n: number): Promise<number> | number;
}

const ORPHAN_BLOCK_FILL = 1_000_000;

// ---- fixtures, built once ----

let orphanHeaders: Promise<BlockHeader[]> | undefined;
/** Solved regtest headers whose parents nobody has: N + 1 orphans. */
function headers(): Promise<BlockHeader[]> {
  const n = policy.MAX_ORPHAN_BLOCKS + 1;
  return orphanHeaders ??= (async () => {
    const l = newLedger();
    const key = await newKey();
    const out: BlockHeader[] = [];
    for (let i = 0; i < n; i++) {
      const b = makeBlock(l.chain, undefined, key.pkh, (b) => {
        b.header.prevHash = seededBytes(32, 1000 + i).toHex();
      });
      out.push(b.header);
    }
    return out;
  })();
}

function keepOrphans(chain: Chain, hs: BlockHeader[], sizes: number[]): void {
  sizes.forEach((size, i) => {
    assert.equal(chain.checkHeader(hs[i]), "orphan");
    chain.keepOrphan(hs[i], new Uint8Array(size));
  });
}

let waiting: Promise<{ chain: Chain; txs: Transaction[] }> | undefined;
/** Signed spends of outputs nobody has: N + 1 orphan transactions. */
function orphanTxs() {
  const n = policy.MAX_ORPHAN_TXS + 1;
  return waiting ??= (async () => {
    const l = newLedger();
    const key = await newKey();
    const txs: Transaction[] = [];
    for (let i = 0; i < n; i++) {
      txs.push(
        await spend(key, [{ txid: seededBytes(32, 5000 + i).toHex(), index: 0 }], [
          { amount: 1000, pubKeyHash: key.pkh },
        ]),
      );
    }
    return { chain: l.chain, txs };
  })();
}

let chains:
  | Promise<
    {
      chain: Chain;
      key: TestKey;
      row: Transaction[];
      fan: Transaction[];
      singles: Transaction[];
      wide: Transaction;
    }
  >
  | undefined;
/**
 * A chain of unconfirmed spends one after the other, a parent with many children, and unconfirmed
 * transactions unrelated to each other (for a newcomer with many parents): N + 1 of each.
 */
function packages() {
  const n = Math.max(policy.MAX_ANCESTORS, policy.MAX_DESCENDANTS) + 1;
  return chains ??= (async () => {
    const l = await fundedLedger();
    const wide = await spend(
      l.key,
      [l.coins[2]],
      Array.from(
        { length: n },
        () => ({ amount: Math.floor(COIN_AMOUNT / n) - 1000, pubKeyHash: l.key.pkh }),
      ),
    );
    await l.mempool.accept(wide);
    await mine(l.chain, l.mempool, l.key.pkh, 1); // confirmed: its outputs are n unrelated coins
    const singles: Transaction[] = [];
    for (let i = 0; i < n; i++) {
      singles.push(
        await spend(l.key, [{ txid: txid(wide), index: i }], [{
          amount: wide.outputs[i].amount - 1000,
          pubKeyHash: l.key.pkh,
        }]),
      );
    }
    const row: Transaction[] = [];
    let prev = { txid: l.coins[0].txid, index: l.coins[0].index }, amount = COIN_AMOUNT;
    for (let i = 0; i < n; i++) {
      amount -= 1000;
      const tx = await spend(l.key, [prev], [{ amount, pubKeyHash: l.key.pkh }]);
      row.push(tx);
      prev = { txid: txid(tx), index: 0 };
    }
    const parent = await spend(
      l.key,
      [l.coins[1]],
      Array.from(
        { length: n },
        () => ({ amount: Math.floor(COIN_AMOUNT / n) - 1000, pubKeyHash: l.key.pkh }),
      ),
    );
    const fan = [parent];
    for (let i = 0; i < n; i++) {
      fan.push(
        await spend(l.key, [{ txid: txid(parent), index: i }], [{
          amount: parent.outputs[i].amount - 1000,
          pubKeyHash: l.key.pkh,
        }]),
      );
    }
    return { chain: l.chain, key: l.key, row, fan, singles, wide };
  })();
}

/** The encoded size of a transaction with `i` inputs and `o` outputs (each input 132 bytes, each output 28). */
const txBytes = (i: number, o: number) => 8 + compactSizeLength(i) + 132 * i + compactSizeLength(o) + 28 * o;

/** The number of outputs that makes a transaction of `i` inputs exactly `size` bytes, or undefined. */
function outputsFor(i: number, size: number): number | undefined {
  const guess = Math.floor((size - 8 - 132 * i) / 28);
  for (let o = Math.max(1, guess - 3); o <= guess + 3; o++) if (txBytes(i, o) === size) return o;
  return undefined;
}

/** A signed spend of `inputs` (worth `value`) into `o` equal outputs, paying exactly 1 unit per byte. */
async function sized(key: TestKey, inputs: { txid: string; index: number }[], value: number, o: number) {
  const size = txBytes(inputs.length, o);
  const each = Math.floor((value - size) / o);
  assert.ok(each > 0, `${o} outputs of ${value - size} units`);
  const tx = await spend(
    key,
    inputs,
    Array.from({ length: o }, () => ({ amount: each, pubKeyHash: key.pkh })),
  );
  assert.equal(txSize(tx), size);
  return tx;
}

/**
 * Unconfirmed packages of exactly `total` bytes (even: every transaction's size is), all within the standard
 * size: for the ancestor limit, a newcomer spending two unrelated parents (so no descendant limit is near);
 * for the descendant limit, a parent with one large child, and a small newcomer as its second child (so no
 * ancestor limit is near). The newcomer is last.
 */
async function exactPackage(kind: "ancestors" | "descendants", total: number): Promise<Transaction[]> {
  const { key, wide } = await packages();
  const coins = (from: number, n: number) =>
    Array.from({ length: n }, (_, k) => ({ txid: txid(wide), index: from + k }));
  const value = wide.outputs[0].amount;
  const each = (v: number, i: number, o: number) => Math.floor((v - txBytes(i, o)) / o);
  const std = (i: number, o: number) => txBytes(i, o) <= policy.MAX_STANDARD_TX_SIZE;
  // The sizes' residues depend on the counts of inputs and on which counts need a 3-byte CompactSize: search.
  if (kind === "ancestors") {
    for (let ia = 1; ia <= 4; ia++) {
      for (let ib = 1; ib <= 4; ib++) {
        for (const oc of [1, 253]) {
          for (let ob = 1; ob <= 300; ob++) {
            const oa = outputsFor(ia, total - txBytes(ib, ob) - txBytes(2, oc));
            if (oa === undefined || !std(ia, oa)) continue;
            const into = each(ia * value, ia, oa) + each(ib * value, ib, ob);
            if (each(into, 2, oc) < 1) continue;
            const pa = await sized(key, coins(0, ia), ia * value, oa);
            const pb = await sized(key, coins(4, ib), ib * value, ob);
            const c = await sized(
              key,
              [{ txid: txid(pa), index: 0 }, { txid: txid(pb), index: 0 }],
              into,
              oc,
            );
            return [pa, pb, c];
          }
        }
      }
    }
  } else {
    for (let ip = 1; ip <= 4; ip++) {
      for (let ic = 2; ic <= 5; ic++) {
        for (const oc2 of [1, 253]) {
          for (let op = 253; op <= 300; op++) {
            const oc = outputsFor(ic, total - txBytes(ip, op) - txBytes(1, oc2));
            if (oc === undefined || !std(ic, oc) || !std(ip, op)) continue;
            const out = each(ip * value, ip, op);
            if (each(ic * out, ic, oc) < 1 || each(out, 1, oc2) < 1) continue;
            const p = await sized(key, coins(8, ip), ip * value, op);
            const pOut = (k: number) => ({ txid: txid(p), index: k });
            const child = await sized(key, Array.from({ length: ic }, (_, k) => pOut(k + 1)), ic * out, oc);
            const c = await sized(key, [pOut(0)], out, oc2);
            return [p, child, c];
          }
        }
      }
    }
  }
  throw new Error(`no package of exactly ${total} bytes`);
}

/** Accepts a package into a fresh mempool; returns the bytes it holds. */
async function bytesHeld(chain: Chain, txs: Transaction[]): Promise<number> {
  const pool = new Mempool(chain);
  for (const tx of txs) {
    await pool.accept(tx).catch((e) => {
      if (e.code !== "too-long-mempool-chain") throw e;
    });
  }
  return pool.bytes;
}

/** Accepts `txs` in order into a fresh mempool over `chain`; returns how many it holds. */
async function poolOf(chain: Chain, txs: Transaction[]): Promise<number> {
  const pool = new Mempool(chain);
  for (const tx of txs) {
    await pool.accept(tx).catch((e) => {
      if (e.code !== "too-long-mempool-chain") throw e;
    });
  }
  return pool.size;
}

/** Coins of `RICH_VALUE` for the byte row of the mempool: enough for 50 of the largest transactions and two more. */
const RICH_COINS = 70, RICH_VALUE = 8_000_000;

let manyCoins:
  | Promise<{ chain: Chain; payments: Transaction[]; rich: OutPoint[]; key: TestKey }>
  | undefined;
/**
 * N + 1 one-in, one-out payments of one fee rate, each spending its own confirmed coin (one wide transaction
 * mined into a block: it is larger than the mempool takes), and `RICH_COINS` larger coins. Signatures are
 * blank: the pools they fill check signatures with a queue that accepts every one, so a row of 20,000 costs a
 * second, not a minute.
 */
function manyPayments() {
  const n = policy.MAX_MEMPOOL_TXS + 1;
  return manyCoins ??= (async () => {
    const l = await fundedLedger();
    const each = Math.floor(COIN_AMOUNT / n) - 100;
    const to = (amount: number, k: number) =>
      Array.from({ length: k }, () => ({ amount, pubKeyHash: l.key.pkh }));
    const wide = await spend(l.key, [l.coins[3]], to(each, n));
    const richTx = await spend(l.key, [l.coins[4]], to(RICH_VALUE, RICH_COINS));
    const block = makeBlock(l.chain, undefined, l.key.pkh, (b) => b.txs.push(wide, richTx));
    await l.chain.processBlock(block);
    assert.equal(l.chain.height, l.blocks.length + 1);
    const id = txid(wide);
    const payments = Array.from(
      { length: n },
      (_, index) => blank(l.key, [{ txid: id, index }], 1, each - 1000),
    );
    const rich = Array.from({ length: RICH_COINS }, (_, index) => ({ txid: txid(richTx), index }));
    return { chain: l.chain, payments, rich, key: l.key };
  })();
}

/** A transaction spending `inputs` into `o` outputs of `amount`, its signatures blank. */
function blank(key: TestKey, inputs: OutPoint[], o: number, amount: number): Transaction {
  return {
    version: 1,
    inputs: inputs.map((prevout) => ({ prevout, publicKey: key.publicKey, signature: new Uint8Array(64) })),
    outputs: Array.from({ length: o }, () => ({ amount, pubKeyHash: key.pkh })),
    lockTime: 0,
  };
}

/**
 * Transactions (blank signatures, outputs of 1 unit) of exactly `total` bytes in all (even), each within the
 * standard size: as many of the largest as fit, and two (or three) that make up the rest.
 */
async function bytesOf(total: number): Promise<Transaction[]> {
  const { rich, key } = await manyPayments();
  const bigOut = outputsFor(1, policy.MAX_STANDARD_TX_SIZE - 8) ?? assert.fail("no largest size");
  const big = txBytes(1, bigOut);
  const k = Math.floor(total / big) - 1;
  const txs = Array.from({ length: k }, (_, j) => blank(key, [rich[j]], bigOut, 1));
  // Fewer than 253 outputs make a size of 2 mod 4, more make 0 mod 4: one small transaction for the first.
  if (total % 4 === 2) txs.push(blank(key, [rich[RICH_COINS - 1]], 1, 1));
  const rest = total - txs.reduce((s, t) => s + txSize(t), 0); // about [big, 2 big): two transactions
  const coins = (from: number, i: number) => rich.slice(from, from + i);
  for (let r1 = Math.floor(rest / 4) * 2; r1 > rest / 2 - 400; r1 -= 2) {
    for (let a = 1; a <= 7; a++) {
      for (let b = 1; b <= 7; b++) {
        const oa = outputsFor(a, r1), ob = outputsFor(b, rest - r1);
        if (oa === undefined || ob === undefined) continue;
        txs.push(blank(key, coins(k, a), oa, 1), blank(key, coins(k + a, b), ob, 1));
        assert.equal(txs.reduce((s, t) => s + txSize(t), 0), total);
        return txs;
      }
    }
  }
  throw new Error(`no transactions of exactly ${total} bytes`);
}

/** Fills a fresh pool (default bounds, signatures passed) with `txs`; the ones past its room are refused. */
async function fill(chain: Chain, txs: Transaction[]): Promise<Mempool> {
  const pool = new Mempool(chain, { verifier: passAll() });
  for (const tx of txs) {
    await pool.accept(tx).catch((e) => {
      if (e.code !== "mempool-full") throw e;
    });
  }
  return pool;
}

/** A signature queue that passes every signature: for pools filled with `manyPayments`. */
const passAll = () => new VerifyQueue(16, () => Promise.resolve(true));

/** A frame body of exactly `n` bytes: `{"type":"x","p":"aaa…"}`. */
function body(n: number): string {
  const empty = '{"type":"x","p":""}';
  return `{"type":"x","p":"${"a".repeat(n - empty.length)}"}`;
}

const noTracker: TrackerFile = {
  read: () => Promise.resolve({ addrs: [], warnings: [] }),
  write: () => Promise.resolve(),
};

// ---- the table ----

/**
 * A compact relay whose ledger lacks every transaction of every compact block (each waits for a `blocktxn`),
 * fed compact blocks of these sizes in bytes; what it keeps waiting afterwards.
 */
async function waitingCompact(sizes: number[]): Promise<{ count: number; bytes: number }> {
  let seq = 0;
  const ledger = {
    compactBlock: () => new Uint8Array(1),
    rebuildCompact: () => ({ kind: "missing", id: (seq++).toString(16).padStart(64, "0"), missing: [1] }),
  } as unknown as LedgerPort;
  const link = { conn: { send: () => true, isClosed: false } } as unknown as Link;
  const relay = new CompactRelay(ledger, {
    takeBlock: () => Promise.resolve(),
    orphan: () => {},
    misbehaved: () => {},
  }, new ServeQueue());
  for (const size of sizes) {
    await relay.onCompact(link, { type: "cmpctblock", data: "00".repeat(size) }, () => []);
  }
  return relay.waiting;
}

/**
 * A block sync led by enough links to ask more than its window, over `want` blocks nobody has answered yet;
 * then `sizes` bytes of blocks arrive out of order (never the next to connect). What its window holds.
 */
function syncWindow(
  want: number,
  sizes: number[] = [],
): { inflight: number; arrived: number; bytes: number } {
  const ids = Array.from({ length: want + 1 }, (_, i) => i.toString(16).padStart(64, "0"));
  const ledger = { locator: () => [], has: () => false } as unknown as LedgerPort;
  const sync = new BlockSync(ledger, { misbehaved: () => {}, now: () => 0, finished: () => {} });
  const links = Array.from(
    { length: Math.ceil(SYNC_WINDOW / SYNC_PER_LINK) + 1 },
    () => ({ conn: { send: () => true, isClosed: false } }) as unknown as Link,
  );
  for (const l of links) sync.offer(l);
  sync.onHashes(links[0], ids.slice(0, want));
  sizes.forEach((size, i) => void sync.onBlock(links[0], ids[i + 1], new Uint8Array(size)));
  return sync.window;
}

/** A simulated LAN whose first node has become its SuperPeer (3 s of virtual time). */
async function settledSuperPeer(): Promise<{ w: World; sp: SimNode }> {
  const w = new World({ seed: 1, trackerSeeds: 1 });
  const sp = w.addNode();
  w.start(sp);
  await w.clock.advance(3_000);
  return { w, sp };
}

/** How many of `n` event streams from `host` a fresh `EventStreams` opens. */
function streamsOpened(host: string, n: number): number {
  const streams = new EventStreams();
  let opened = 0;
  for (let i = 0; i < n; i++) if (streams.open(host, "json", [])) opened++;
  streams.close();
  return opened;
}

/** `n` directory items of exactly `bytes` each as a gossip budget counts them (`entryBytes`). */
function gossipItems(n: number, bytes: number) {
  const base = { nodeId: "n".repeat(64), listen: "10.0.0.1:1", peers: 0, load: 0, capacity: 8, seq: 1 };
  const sig = "a".repeat(bytes - entryBytes({ ...base, sig: "" }));
  return Array.from({ length: n }, () => ({ ...base, sig }));
}

/** Bytes of one item in the byte-budget rows: the burst in whole items, fewer than the entry budget's burst. */
const BUDGET_ITEM_BYTES = 1024;

const BOUNDS: Bound[] = [
  {
    name: "MAX_FOUND",
    what: "addresses one LAN search returns (one per answering host)",
    dimension: "count",
    limit: config.MAX_FOUND,
    probe: (n) =>
      foundAddresses(
        Array.from({ length: n }, (_, i) => ({ source: `10.0.${i >> 8}.${i & 255}`, port: 8765 })),
      )
        .length,
  },
  {
    name: "BEACON_MAX_TARGETS",
    what: "subnets one LAN query is broadcast on",
    dimension: "count",
    limit: config.BEACON_MAX_TARGETS,
    probe: (n) =>
      localSubnets(
        Array.from(
          { length: n },
          (_, i) => ({ family: "IPv4", address: `10.${i + 1}.0.1`, netmask: "255.255.0.0" }),
        ),
      ).length,
  },
  {
    name: "DIR_LINK_BUDGET (entries)",
    what: "directory items one link may make this node read at once",
    dimension: "count",
    limit: config.DIR_LINK_BUDGET.burst,
    probe: (n) => new GossipBudget(0).charge(gossipItems(n, 256), 0),
  },
  {
    name: "DIR_LINK_BYTES (bytes)",
    what: "bytes of directory gossip one link may make this node read at once",
    dimension: "bytes",
    limit: config.DIR_LINK_BYTES.burst,
    step: BUDGET_ITEM_BYTES,
    probe: (n) =>
      new GossipBudget(0).charge(gossipItems(n / BUDGET_ITEM_BYTES, BUDGET_ITEM_BYTES), 0) *
      BUDGET_ITEM_BYTES,
  },
  {
    name: "DIR_WANT_MAX",
    what: "directory entries asked for and not yet received",
    dimension: "count",
    limit: config.DIR_WANT_MAX,
    probe(n) {
      const wants = new WantList();
      wants.pick(Array.from({ length: n }, (_, i) => ({ nodeId: `sp${i}`, seq: 1 })), () => undefined, 0);
      return wants.size;
    },
  },
  {
    name: "SYNC_WINDOW",
    what: "blocks a sync asks ahead of the next one to connect",
    dimension: "count",
    limit: SYNC_WINDOW,
    probe: (n) => syncWindow(n).inflight,
  },
  {
    name: "SYNC_WINDOW_BYTES",
    what: "bytes of blocks a sync holds that wait for their turn",
    dimension: "bytes",
    limit: SYNC_WINDOW_BYTES,
    probe(n) {
      const part = 1_000_000, k = Math.floor((n - 1) / part);
      return syncWindow(SYNC_WINDOW, [...Array(k).fill(part), n - k * part]).bytes;
    },
  },
  {
    name: "MAX_HASHES",
    what: "block hashes one hashes message carries",
    dimension: "count",
    limit: MAX_HASHES,
    probe(n) {
      try {
        const msg = parseMessage({ type: "hashes", ids: Array(n).fill("00".repeat(32)) });
        return msg.type === "hashes" ? msg.ids.length : 0;
      } catch {
        return 0;
      }
    },
  },
  {
    name: "MAX_WAITING_COMPACT",
    what: "compact blocks kept while their missing transactions are asked for",
    dimension: "count",
    limit: MAX_WAITING_COMPACT,
    async probe(n) {
      return (await waitingCompact(Array(n).fill(100))).count;
    },
  },
  {
    name: "MAX_WAITING_COMPACT_BYTES",
    what: "bytes of compact blocks kept while their missing transactions are asked for",
    dimension: "bytes",
    limit: MAX_WAITING_COMPACT_BYTES,
    async probe(n) {
      const part = 200_000, k = Math.floor((n - 1) / part);
      return (await waitingCompact([...Array(k).fill(part), n - k * part])).bytes;
    },
  },
  {
    name: "MAX_BLOCKTXN",
    what: "transactions one getblocktxn asks for",
    dimension: "count",
    limit: MAX_BLOCKTXN,
    probe(n) {
      const positions = Array.from({ length: n }, (_, i) => i + 1);
      try {
        const msg = parseMessage({ type: "getblocktxn", hash: "00".repeat(32), positions });
        return msg.type === "getblocktxn" ? msg.positions.length : 0;
      } catch {
        return 0;
      }
    },
  },
  {
    name: "DIR_MAX_PER_SOURCE",
    what: "directory entries one source link holds",
    dimension: "count",
    limit: config.DIR_MAX_PER_SOURCE,
    probe(n) {
      const dir = new Directory();
      for (let i = 0; i < n; i++) {
        dir.merge(
          { nodeId: `sp${i}`, listen: "10.0.0.1:1", peers: 0, load: 0, capacity: 8, seq: 1 },
          i,
          "one",
        );
      }
      return dir.heldFrom("one");
    },
  },
  {
    name: "DIR_MAX",
    what: "directory entries in all, from as many sources as it takes",
    dimension: "count",
    limit: config.DIR_MAX,
    probe(n) {
      const dir = new Directory();
      for (let i = 0; i < n; i++) {
        dir.merge(
          { nodeId: `sp${i}`, listen: "10.0.0.1:1", peers: 0, load: 0, capacity: 8, seq: 1 },
          i,
          `link-${Math.floor(i / config.DIR_MAX_PER_SOURCE)}`,
        );
      }
      return dir.size;
    },
  },
  {
    name: "DEFAULT_MAX_PEERS",
    what: "Peers a SuperPeer serves, through the real Network on the simulated LAN (one node per host)",
    dimension: "count",
    limit: config.DEFAULT_MAX_PEERS,
    async probe(n) {
      const { w, sp } = await settledSuperPeer();
      for (let i = 0; i < n; i++) {
        w.start(w.addNode());
        await w.clock.advance(200);
      }
      await w.clock.advance(5_000);
      return sp.net!.linkInfo().filter((l) => l.kind === "member").length;
    },
  },
  {
    name: "MAX_WAITING_LINKS",
    what: "sockets that have not said hello, at a SuperPeer on the simulated LAN (one per host)",
    dimension: "count",
    limit: config.MAX_WAITING_LINKS,
    async probe(n) {
      const { w, sp } = await settledSuperPeer();
      for (let i = 0; i < n; i++) {
        w.lan.transport(`10.0.8.${i + 1}`).dial({ hostname: sp.host, port: SIM_PORT }, 1_000);
        await w.clock.advance(10); // well within the handshake's time
      }
      return w.lan.openStreams(sp.host);
    },
  },
  {
    name: "MAX_ORPHAN_BLOCKS",
    what: "orphan blocks a chain keeps",
    dimension: "count",
    limit: policy.MAX_ORPHAN_BLOCKS,
    async probe(n) {
      const { chain } = newLedger();
      keepOrphans(chain, await headers(), Array(n).fill(100));
      return chain.orphanCount;
    },
  },
  {
    name: "MAX_ORPHAN_BLOCK_BYTES",
    what: "bytes of the orphan blocks a chain keeps",
    dimension: "bytes",
    limit: policy.MAX_ORPHAN_BLOCK_BYTES,
    async probe(n) {
      const { chain } = newLedger();
      const full = Math.floor((n - 1) / ORPHAN_BLOCK_FILL);
      keepOrphans(chain, await headers(), [
        ...Array(full).fill(ORPHAN_BLOCK_FILL),
        n - full * ORPHAN_BLOCK_FILL,
      ]);
      return chain.orphanBytes;
    },
  },
  {
    name: "MAX_MEMPOOL_TXS",
    what: "transactions in the mempool (payments of one fee rate: the one past N is refused)",
    dimension: "count",
    limit: policy.MAX_MEMPOOL_TXS,
    async probe(n) {
      const { chain, payments } = await manyPayments();
      return (await fill(chain, payments.slice(0, n))).size;
    },
  },
  {
    name: "MAX_MEMPOOL_BYTES",
    what: "bytes of the transactions in the mempool (sizes are even: N±2)",
    dimension: "bytes",
    step: 2,
    limit: policy.MAX_MEMPOOL_BYTES,
    async probe(n) {
      const { chain } = await manyPayments();
      return (await fill(chain, await bytesOf(n))).bytes;
    },
  },
  {
    name: "MAX_ORPHAN_TXS",
    what: "transactions waiting for a parent, in the mempool",
    dimension: "count",
    limit: policy.MAX_ORPHAN_TXS,
    async probe(n) {
      const { chain, txs } = await orphanTxs();
      const pool = new Mempool(chain);
      for (const tx of txs.slice(0, n)) assert.deepEqual(await pool.accept(tx, { allowOrphan: true }), []);
      return pool.orphanCount;
    },
  },
  {
    name: "MAX_ORPHAN_TX_BYTES",
    what: "bytes of the transactions waiting for a parent",
    dimension: "bytes",
    limit: policy.MAX_ORPHAN_TX_BYTES,
    probe(n) {
      const pool = new OrphanTxs({ random: () => 0 });
      const std = policy.MAX_STANDARD_TX_SIZE;
      const k = Math.floor((n - 1) / std);
      const sizes = [...Array(k).fill(std), n - k * std];
      const tx = { version: 1, inputs: [], outputs: [], lockTime: 0 };
      sizes.forEach((size, i) => pool.add(`k${i}`, `t${i}`, tx, size));
      return pool.bytes;
    },
  },
  {
    name: "MAX_STANDARD_TX_SIZE",
    what: "bytes of one transaction kept waiting for a parent",
    dimension: "bytes",
    limit: policy.MAX_STANDARD_TX_SIZE,
    probe(n) {
      const pool = new OrphanTxs();
      pool.add("k", "t", { version: 1, inputs: [], outputs: [], lockTime: 0 }, n);
      return pool.bytes;
    },
  },
  {
    name: "MAX_ANCESTORS",
    what: "unconfirmed ancestors of a newcomer with n − 1 unrelated parents, itself included",
    dimension: "count",
    limit: policy.MAX_ANCESTORS,
    async probe(n) {
      // Not a row of spends: there the first one's descendants reach their limit at the same length.
      const { chain, key, singles } = await packages();
      const parents = singles.slice(0, n - 1);
      const join = await spend(key, parents.map((p) => ({ txid: txid(p), index: 0 })), [{
        amount: parents.reduce((s, p) => s + p.outputs[0].amount, 0) - 10_000,
        pubKeyHash: key.pkh,
      }]);
      return await poolOf(chain, [...parents, join]);
    },
  },
  {
    name: "MAX_ANCESTORS (a row)",
    what: "unconfirmed spends one after the other",
    dimension: "count",
    limit: Math.min(policy.MAX_ANCESTORS, policy.MAX_DESCENDANTS),
    async probe(n) {
      const { chain, row } = await packages();
      return await poolOf(chain, row.slice(0, n));
    },
  },
  {
    name: "MAX_DESCENDANTS",
    what: "unconfirmed descendants of one transaction, itself included",
    dimension: "count",
    limit: policy.MAX_DESCENDANTS,
    async probe(n) {
      const { chain, fan } = await packages();
      return await poolOf(chain, fan.slice(0, n));
    },
  },
  {
    name: "MAX_ANCESTOR_BYTES",
    what: "bytes of a newcomer and its unconfirmed ancestors (sizes are even: N±2)",
    dimension: "bytes",
    step: 2,
    limit: policy.MAX_ANCESTOR_BYTES,
    async probe(n) {
      return await bytesHeld((await packages()).chain, await exactPackage("ancestors", n));
    },
  },
  {
    name: "MAX_DESCENDANT_BYTES",
    what: "bytes of a transaction and its unconfirmed descendants (sizes are even: N±2)",
    dimension: "bytes",
    step: 2,
    limit: policy.MAX_DESCENDANT_BYTES,
    async probe(n) {
      return await bytesHeld((await packages()).chain, await exactPackage("descendants", n));
    },
  },
  {
    name: "BanListOptions.maxEntries (10,000)",
    what: "hosts a ban list remembers",
    dimension: "count",
    limit: 10_000,
    probe(n) {
      const list = new BanList();
      for (let i = 0; i < n; i++) list.ban(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
      return list.banned().length;
    },
  },
  {
    name: "ADDRESS_BOOK_MAX",
    what: "addresses an address book remembers",
    dimension: "count",
    limit: config.ADDRESS_BOOK_MAX,
    probe(n) {
      const book = new AddressBook(noTracker, new VirtualClock());
      for (let i = 0; i < n; i++) book.add(`10.1.${i >> 8}.${i & 255}:8333`, "heard");
      return book.size;
    },
  },
  {
    name: "EventStreams maxClients (128)",
    what: "explorer event streams open at once",
    dimension: "count",
    limit: 128,
    probe: (n) => streamsOpened("127.0.0.1", n),
  },
  {
    name: "EventStreams maxPerHost (16)",
    what: "explorer event streams from one LAN host",
    dimension: "count",
    limit: 16,
    probe: (n) => streamsOpened("192.168.1.9", n),
  },
  {
    name: "EventStreams maxQueue (64)",
    what: "messages queued for an explorer client that does not read",
    dimension: "count",
    sheds: true,
    limit: 64,
    probe(n) {
      const streams = new EventStreams();
      assert.ok(streams.open("127.0.0.1", "json", []));
      for (let i = 0; i < n; i++) streams.publish("json", { bytes: new Uint8Array(10) });
      const held = streams.queues()[0].messages;
      streams.close();
      return held;
    },
  },
  {
    name: "EventStreams maxQueueBytes (512 KiB)",
    what: "bytes queued for an explorer client that does not read",
    dimension: "bytes",
    limit: 512 * 1024,
    probe(n) {
      const streams = new EventStreams();
      assert.ok(streams.open("127.0.0.1", "json", []));
      const part = 64 * 1024, k = Math.floor((n - 1) / part);
      for (const size of [...Array(k).fill(part), n - k * part]) {
        streams.publish("json", { bytes: new Uint8Array(size) });
      }
      const held = streams.queues()[0].bytes;
      streams.close();
      return held;
    },
  },
  {
    name: "MAX_FRAME",
    what: "bytes of one frame a link reads",
    dimension: "bytes",
    limit: MAX_FRAME,
    probe(n) {
      const d = new FrameDecoder();
      const text = new TextEncoder().encode(body(n));
      const frame = new Uint8Array(4 + text.length);
      new DataView(frame.buffer).setUint32(0, text.length);
      frame.set(text, 4);
      try {
        return [...d.decode(frame)].length === 1 ? n : 0;
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
        return 0;
      }
    },
  },
  {
    name: "MAX_FRAME (encoding)",
    what: "bytes of one frame a link writes",
    dimension: "bytes",
    limit: MAX_FRAME,
    probe(n) {
      try {
        return encodeFrame(JSON.parse(body(n))).length - 4;
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
        return 0;
      }
    },
  },
];

/**
 * Limits with no row, and why: a new one must be added to the table or here. The rest of config.ts is
 * enforced in lib/net/network.ts and overlay.ts, which are being rebuilt: their tests go through the real
 * Network with the new overlay (issue 25, first part).
 */
const NO_ROW: Record<string, string> = {
  MAX_LINKS_PER_HOST:
    "links, not a pool: net_wiring_test opens N+2 from one host through the real Network (held: 1..N, N, N)",
  MAX_REDIRECTS:
    "hops a join follows (joining.ts: `full` try lists and `redirect`s), not a pool. Honest nodes " +
    "chain at most two (a Peer redirects to its SuperPeers, a full one points to one with room), so hops 3 " +
    "and 4 need scripted redirectors; lib/sim's Sybils only redirect into loops among themselves, which the " +
    "join's `tried` set cuts before the bound does. No row until the simulated LAN has such a responder",
  TRACKER_MAX: "the lines of the tracker file the address book writes; not a pool",
  DIR_SUM_BUCKETS_MAX:
    "the hashes of a directory summary, a power of two, not a pool: N−1 and N+1 are not valid " +
    "counts at all; the parser's bounds (the least and the most accepted, twice the most refused) are tested in " +
    "net_messages_test and the counts by size in net_dir_gossip_test",
  FAILOVER_MAX_DIALS:
    "dials of one failover, not a pool: failoverOrder's bound, tested in net_overlay_rules_test",
  LINK_MAX_QUEUED_BYTES:
    "a link's send queue, which closes the link past it rather than holding N: net_connection_test passes a " +
    "256 KiB bound with a reader that never reads and sees the close",
  MAX_BEACON_BYTES:
    "one datagram's size, not a pool: net_discovery_test decodes the longest beacon and drops one of N+1 unread",
  MAX_DATAGRAMS_PER_FIND:
    "datagrams one search reads inside LanDiscovery's UDP socket, not a pool; a search returns at most MAX_FOUND",
};

Deno.test("a getblocktxn or blocktxn can name every transaction of the largest block after its coinbase", () => {
  assert.ok(MAX_BLOCKTXN >= MAX_SHORT_IDS, `MAX_BLOCKTXN ${MAX_BLOCKTXN} < MAX_SHORT_IDS ${MAX_SHORT_IDS}`);
});

Deno.test("every limit has a row in the bounds table, or a stated reason it has none", () => {
  const limits = [...Object.keys(policy), ...Object.keys(config), "MAX_FRAME"].filter((k) =>
    /MAX/.test(k) && !/_MS$/.test(k) // a limit, not a time
  );
  const rows = new Set(BOUNDS.map((b) => b.name.split(" ")[0]));
  const missing = limits.filter((k) => !rows.has(k) && !(k in NO_ROW));
  assert.deepEqual(missing, [], `limits without a row: add one to BOUNDS`);
  for (const k of Object.keys(NO_ROW)) {
    assert.ok(limits.includes(k), `${k} is no longer a limit: drop it from NO_ROW`);
  }
});

for (const b of BOUNDS) {
  for (const d of [-1, 0, 1]) {
    const step = b.step ?? 1, n = b.limit + d * step;
    Deno.test(`bound ${b.name} (${b.what}, ${b.dimension} ${b.limit}) at N${d ? (d < 0 ? "−" : "+") + step : ""}`, async () => {
      const held = await b.probe(n);
      if (d <= 0) assert.equal(held, n, `at ${n}: all held`);
      else {
        assert.ok(held <= b.limit, `at ${n}: ${held} held, over the limit ${b.limit}`);
        if (b.dimension === "count" && !b.sheds) {
          assert.ok(held === b.limit || held === 0, `at ${n}: ${held} held`);
        }
      }
    });
  }
}

Deno.test("bound MAX_ORPHAN_BLOCK_BYTES: an orphan larger than the whole pool is refused and pushes nothing out", async () => {
  const { chain } = newLedger({ maxOrphanBytes: 1000 });
  const hs = await headers();
  keepOrphans(chain, hs, [400, 400]);
  keepOrphans(chain, hs.slice(2), [1001]);
  assert.equal(chain.orphanCount, 2);
  assert.equal(chain.orphanBytes, 800);
});

// ---- the mempool's room: bytes at N−1, N, N+1, and the fee rate that may evict at lower, equal, higher, when
// full in bytes and when full in count ----

/** A one-in, one-out payment to `key` itself of exactly `fee`. */
async function withFee(l: Awaited<ReturnType<typeof fundedLedger>>, coin: number, fee: number) {
  return await spend(l.key, [l.coins[coin]], [{ amount: COIN_AMOUNT - fee, pubKeyHash: l.key.pkh }]);
}

for (const d of [-1, 0, 1]) {
  Deno.test(`bound Mempool maxBytes (bytes) at N${d ? (d < 0 ? "−1" : "+1") : ""}: three payments fill it exactly at N`, async () => {
    const l = await fundedLedger();
    const txs = [await withFee(l, 0, 5000), await withFee(l, 1, 5000), await withFee(l, 2, 4000)];
    const total = txs.reduce((s, t) => s + txSize(t), 0);
    // The payments are fixed; the limit moves: total = N−1, N or N+1.
    const pool = new Mempool(l.chain, { maxBytes: total - d });
    for (const tx of txs.slice(0, 2)) await pool.accept(tx);
    const last = await pool.accept(txs[2]).then(() => "accepted", (e) => e.code);
    assert.equal(last, d <= 0 ? "accepted" : "mempool-full");
    assert.ok(pool.bytes <= total - d);
  });
}

for (
  const [name, extra, expected] of [["lower than", -1, "mempool-full"], ["equal to", 0, "mempool-full"], [
    "higher than",
    1,
    "evicts",
  ]] as const
) {
  for (const dimension of ["bytes", "count"] as const) {
    Deno.test(`fee-rate eviction (${dimension} full): a newcomer whose fee rate is ${name} the pool's lowest ${expected === "evicts" ? "evicts it" : "is refused"}`, async () => {
      const l = await fundedLedger();
      const low = await withFee(l, 0, 2 * txSize(await withFee(l, 0, 0)));
      const size = txSize(low);
      const high = await withFee(l, 1, 10 * size);
      const pool = new Mempool(l.chain, dimension === "bytes" ? { maxBytes: 2 * size } : { maxCount: 2 });
      await pool.accept(low);
      await pool.accept(high);
      const newcomer = await withFee(l, 2, 2 * size + extra);
      assert.equal(txSize(newcomer), size);
      const r = await pool.accept(newcomer).then(() => "evicts", (e) => e.code);
      assert.equal(r, expected);
      assert.equal(pool.has(txid(low)), expected !== "evicts");
      assert.ok(pool.has(txid(high)));
      assert.equal(pool.size, 2);
    });
  }
}

Deno.test("fee-rate eviction makes exactly the room it needs: after one eviction the pool is full to N, not below", async () => {
  const l = await fundedLedger();
  const size = txSize(await withFee(l, 0, 0));
  const low1 = await withFee(l, 0, 2 * size), low2 = await withFee(l, 1, 3 * size);
  const pool = new Mempool(l.chain, { maxBytes: 2 * size });
  await pool.accept(low1);
  await pool.accept(low2);
  const rich = await withFee(l, 2, 10 * size);
  await pool.accept(rich);
  assert.deepEqual([low1, low2, rich].map((t) => pool.has(txid(t))), [false, true, true]);
  assert.equal(pool.bytes, 2 * size);
});
