/**
 * Relay and sync over links: blocks and transactions pushed once to every other link when the ledger
 * accepts them (blocks only once on the best chain), inventories answered within budgets (`ServeQueue`), and
 * block download from a locator in batches until level. A `blocks` batch counts as requested only as the answer
 * to a `getblocks` this node sent on that link.
 * @module
 */
import { fromHex, toHex } from "../crypto/hex.ts";
import { CompactRelay } from "./compact_relay.ts";
import type { LedgerPort, Verdict } from "./ledger_port.ts";
import type { Link } from "./link.ts";
import { MALFORMED_SCORE } from "./ban.ts";
import { type HelloMessage, MAX_BLOCKS_PER_MESSAGE, MAX_INV, MAX_LOCATOR, type Message } from "./messages.ts";
import { ServeQueue } from "./serve.ts";

/** Bytes of block data put in one `blocks` reply, well under the 4 MiB frame. */
const BATCH_BYTES = 1_500_000;

/** Our block requests on one link: `getblocks` sent and not yet answered, and whether to ask again after. */
interface Asked {
  pending: number;
  again: boolean;
}

/** What the relay reports to the network about links. */
export interface RelayHooks {
  /** A link sent something refused with a score. */
  misbehaved(link: Link, score: number, reason: string): void;
  /** A link relayed a block or transaction new to us (useful links are kept when slots run out). */
  news?(link: Link, kind: "block" | "tx"): void;
  /** The clock in ms (default `Date.now`). */
  now?(): number;
}

/** A download that made no progress for this long gives way to another link, in ms. */
const SYNC_STALL_MS = 10_000;

/** Moves blocks and transactions between the ledger and links. */
export class Relay {
  #ledger: LedgerPort;
  #hooks: RelayHooks;
  /**
   * The link blocks are being downloaded from, and when it last delivered: one download at a time. `defers`:
   * transactions wait for its end once a batch brought blocks we lacked, not before: a hello claiming more
   * work, or one orphan block, from a peer that never answers would otherwise hold back every payment for
   * `SYNC_STALL_MS` (and a transaction that does arrive early and waits for a parent is kept by the mempool).
   */
  #sync?: { link: Link; at: number; defers: boolean };
  /**
   * Transactions announced or pushed while we download blocks, by the link that has them: a node that is
   * behind cannot judge them (their inputs may be in blocks still on their way, or coinbases not yet
   * mature at its height), so it asks for them once the download is over, as Bitcoin nodes ignore
   * transactions during their initial download.
   */
  #deferred = new Map<Link, Set<string>>();
  #serve = new ServeQueue();
  #asked = new WeakMap<Link, Asked>();
  #compact: CompactRelay;

  constructor(ledger: LedgerPort, hooks: RelayHooks) {
    this.#ledger = ledger;
    this.#hooks = hooks;
    this.#compact = new CompactRelay(ledger, {
      takeBlock: (link, bytes, others) => this.#takePushed(link, bytes, others),
      orphan: (link) => this.#orphanFrom(link),
      misbehaved: (link, score, reason) => hooks.misbehaved(link, score, reason),
    }, this.#serve);
  }

  /** After a handshake: download if the far end has more work, and re-announce our pending transactions. */
  afterHandshake(link: Link, hello: HelloMessage): void {
    this.#ledger.peerTip?.(hello.tip.height);
    const tip = this.#ledger.tip();
    if (BigInt("0x" + hello.tip.work) > tip.work) this.#requestBlocks(link);
    else if (tip.hash !== link.sentTip && tip.hash !== hello.tip.hash) {
      // Our tip moved after our hello left, before this link could receive relays: send it now, or a block
      // connected in that gap would reach this peer only with the next one.
      const bytes = this.#ledger.blockBytes(tip.hash);
      if (bytes) this.pushBlock(bytes, [link]);
    }
    const ids = this.#ledger.pendingTxids();
    for (let i = 0; i < ids.length; i += MAX_INV) {
      link.conn.send({ type: "inv", kind: "tx", ids: ids.slice(i, i + MAX_INV) });
    }
  }

  /**
   * Pushes a block to `targets`: compact (header, coinbase, short ids) when the ledger can rebuild such, as
   * every node of protocol 3 can; whole otherwise, or when the compact form is no smaller.
   */
  pushBlock(bytes: Uint8Array, targets: Link[]): void {
    if (!targets.length) return;
    const msg = this.#compact.message(bytes) ?? { type: "block", data: toHex(bytes) } as const;
    for (const t of targets) t.conn.send(msg);
  }

  /** Pushes a transaction to `targets`. */
  pushTx(bytes: Uint8Array, targets: Link[]): void {
    if (!targets.length) return;
    const data = toHex(bytes);
    for (const t of targets) t.conn.send({ type: "tx", data });
  }

  /**
   * Asks `link` for the blocks after our locator, unless another link is already sending us blocks: a Peer
   * with two SuperPeers, or a burst of orphans, would otherwise download the same chain twice over.
   */
  #requestBlocks(link: Link): void {
    if (this.#syncing() && this.#sync!.link !== link) return;
    this.#sync = { link, at: this.#now(), defers: this.#sync?.link === link && this.#sync.defers };
    this.#ask(link, this.#ledger.locator().slice(0, MAX_LOCATOR));
  }

  /** Sends a `getblocks`, counting it: only its answer is taken as requested. */
  #ask(link: Link, locator: string[]): void {
    if (link.conn.send({ type: "getblocks", locator, stop: null })) this.#askedOf(link).pending++;
  }

  #askedOf(link: Link): Asked {
    let a = this.#asked.get(link);
    if (!a) this.#asked.set(link, a = { pending: 0, again: false });
    return a;
  }

  #now(): number {
    return this.#hooks.now?.() ?? Date.now();
  }

  /** True while a block download is under way and not stalled. */
  #syncing(): boolean {
    const s = this.#sync;
    return !!s && !s.link.conn.isClosed && this.#now() - s.at < SYNC_STALL_MS;
  }

  /** True while a download is under way that transactions wait for (see `#sync`). */
  #downloading(): boolean {
    return this.#syncing() && this.#sync!.defers;
  }

  /** Remembers transaction ids `link` offered during a download (at most `MAX_INV` per link). */
  #defer(link: Link, ids: string[]): void {
    const set = this.#deferred.get(link) ?? new Set<string>();
    for (const id of ids) if (set.size < MAX_INV) set.add(id);
    this.#deferred.set(link, set);
  }

  /** After a download: asks each link for the transactions it offered meanwhile that we still lack. */
  #askDeferred(): void {
    for (const [link, ids] of this.#deferred) {
      const missing = [...ids].filter((id) => !this.#ledger.has("tx", id));
      if (missing.length && !link.conn.isClosed) {
        link.conn.send({ type: "getdata", kind: "tx", ids: missing });
      }
    }
    this.#deferred.clear();
  }

  /**
   * Handles a relay or sync message from `link`; `others` says where accepted items go next. It is asked
   * after validation, so links admitted while a block or transaction was being checked get it too.
   */
  async handle(link: Link, msg: Message, others: () => Link[]): Promise<void> {
    switch (msg.type) {
      case "block":
        return await this.#takePushed(link, fromHex(msg.data), others);
      case "cmpctblock":
        return await this.#compact.onCompact(link, msg, others);
      case "blocktxn":
        return await this.#compact.onBlockTxn(link, msg, others);
      case "getblocktxn":
        return await this.#compact.onGetBlockTxn(link, msg);
      case "tx": {
        const bytes = fromHex(msg.data);
        if (this.#downloading()) {
          const id = this.#ledger.idOf("tx", bytes);
          if (id) return this.#defer(link, [id]);
        } else if (this.#deferred.size) this.#askDeferred();
        const v = await this.#ledger.receiveTx(bytes, link.hello?.nodeId);
        if (v.kind === "accepted") {
          this.#hooks.news?.(link, "tx");
          this.pushTx(bytes, others());
        } else this.#judge(link, v);
        return;
      }
      case "getblocks": {
        await this.#serve.serveOne(link, () => {
          const data: string[] = [];
          let size = 0;
          for (const hash of this.#ledger.hashesAfter(msg.locator as string[], MAX_BLOCKS_PER_MESSAGE)) {
            const bytes = this.#ledger.blockBytes(hash);
            if (!bytes || (size + bytes.length > BATCH_BYTES && data.length)) break;
            data.push(toHex(bytes));
            size += bytes.length;
          }
          link.conn.send({ type: "blocks", data });
          return size;
        });
        return;
      }
      case "blocks": {
        const asked = this.#askedOf(link);
        if (asked.pending === 0) {
          this.#hooks.misbehaved(link, MALFORMED_SCORE, "blocks: not requested");
          return;
        }
        asked.pending--;
        const before = this.#ledger.tip().hash;
        // Ask for the next batch now, from this batch's last block, so it travels while this one is
        // validated; an empty reply ends the download.
        const last = msg.data.length
          ? this.#ledger.idOf("block", fromHex(msg.data.at(-1)!.slice(0, 160)))
          : undefined;
        if (last) this.#ask(link, [last, ...this.#ledger.locator().slice(0, MAX_LOCATOR - 1)]);
        let progressed = false;
        for (const hex of msg.data) {
          const v = await this.#ledger.receiveBlock(fromHex(hex), link.hello?.nodeId, true);
          if (v.kind === "accepted" || v.kind === "orphan" || v.kind === "side") progressed = true;
          else if (v.kind === "rejected") {
            this.#judge(link, v);
            if (v.score > 0) return;
          }
        }
        if (this.#sync?.link === link) {
          this.#sync.at = this.#now();
          if (progressed) this.#sync.defers = true;
          if (!last) {
            this.#sync = undefined; // an empty batch: level with this link
            this.#askDeferred();
          }
        }
        if (!last && (progressed || asked.again) && asked.pending === 0) {
          asked.again = false;
          this.#requestBlocks(link);
        }
        const tip = this.#ledger.tip().hash;
        // Announce the new tip once; whoever lacks its parents asks for them.
        if (tip !== before) this.pushBlock(this.#ledger.blockBytes(tip)!, others());
        return;
      }
      case "inv": {
        const missing = msg.ids.filter((id) => !this.#ledger.has(msg.kind, id));
        if (msg.kind === "tx" && this.#downloading()) return this.#defer(link, missing);
        if (this.#deferred.size) this.#askDeferred();
        if (missing.length) link.conn.send({ type: "getdata", kind: msg.kind, ids: missing });
        return;
      }
      case "getdata": {
        // Each id once: a request naming one big block a thousand times is answered with it once, and scored.
        const ids = [...new Set(msg.ids)];
        if (ids.length < msg.ids.length) {
          this.#hooks.misbehaved(
            link,
            MALFORMED_SCORE,
            `getdata: ${msg.ids.length - ids.length} duplicate ids`,
          );
        }
        const { unserved, stopped } = await this.#serve.serve(
          link,
          ids,
          (id) => msg.kind === "tx" ? this.#ledger.txBytes(id) : this.#ledger.blockBytes(id),
          (bytes) => link.conn.send({ type: msg.kind, data: toHex(bytes) }),
        );
        if (unserved.length && !stopped) link.conn.send({ type: "notfound", kind: msg.kind, ids: unserved });
        return;
      }
      default:
        return; // notfound, ping/pong and handshake messages need nothing here
    }
  }

  /** A block `link` pushed (whole, or rebuilt from its compact form): relayed on if it extends our chain. */
  async #takePushed(link: Link, bytes: Uint8Array, others: () => Link[]): Promise<void> {
    const v = await this.#ledger.receiveBlock(bytes, link.hello?.nodeId, false);
    if (v.kind === "accepted") {
      this.#hooks.news?.(link, "block");
      this.pushBlock(bytes, others());
    } else if (v.kind === "orphan") this.#orphanFrom(link);
    else this.#judge(link, v);
  }

  /** `link` sent a block whose parent we lack: download from it, one request at a time per link. */
  #orphanFrom(link: Link): void {
    // A burst of orphans must not become a burst of requests.
    const asked = this.#askedOf(link);
    if (asked.pending === 0) this.#requestBlocks(link);
    else asked.again = true;
  }

  #judge(link: Link, v: Verdict): void {
    if (v.kind === "rejected" && v.score > 0) this.#hooks.misbehaved(link, v.score, `${v.code}: ${v.reason}`);
  }
}
