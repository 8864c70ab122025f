/**
 * Relay and sync over links: blocks (compact, `compact_relay.ts`) and transactions pushed once to every other
 * link when the ledger accepts them (blocks only once on the best chain), inventories answered within budgets
 * (`ServeQueue`), and block download pipelined over every link that has the blocks (`block_sync.ts`). A block
 * counts as requested only as the answer to a `getdata` of the sync's window.
 * @module
 */
import { fromHex, toHex } from "../crypto/hex.ts";
import { BlockSync } from "./block_sync.ts";
import { CompactRelay } from "./compact_relay.ts";
import type { LedgerPort, Verdict } from "./ledger_port.ts";
import { isLegacy, type Link } from "./link.ts";
import { MALFORMED_SCORE } from "./ban.ts";
import { type HelloMessage, MAX_BLOCKS_PER_MESSAGE, MAX_HASHES, MAX_INV, type Message } from "./messages.ts";
import { ServeQueue } from "./serve.ts";

/** Bytes of block data put in one `blocks` reply, well under the 4 MiB frame. */
const BATCH_BYTES = 1_500_000;

/** What the relay reports to the network about links. */
export interface RelayHooks {
  /** A link sent something refused with a score. */
  misbehaved(link: Link, score: number, reason: string): void;
  /** A link relayed a block or transaction new to us (useful links are kept when slots run out). */
  news?(link: Link, kind: "block" | "tx"): void;
  /** A block new to us came from `link`, pushed or downloaded (what it delivered, as evidence). */
  delivered?(link: Link): void;
  /** The clock in ms (default `Date.now`). */
  now?(): number;
}

/** Moves blocks and transactions between the ledger and links. */
export class Relay {
  #ledger: LedgerPort;
  #hooks: RelayHooks;
  /**
   * The block download: one at a time, from every link that has the blocks. Transactions wait for its end
   * once it connected a block we lacked, not before: a hello claiming more work, or one orphan block, from a
   * peer that never answers would otherwise hold back every payment until the sync gives it up (and a
   * transaction that does arrive early and waits for a parent is kept by the mempool).
   */
  #sync: BlockSync;
  /** Where the sync's news goes when it ends: the links other than the last one it heard from. */
  #syncOthers: () => Link[] = () => [];
  #syncFrom?: string;
  /**
   * Transactions announced or pushed while we download blocks, by the link that has them: a node that is
   * behind cannot judge them (their inputs may be in blocks still on their way, or coinbases not yet
   * mature at its height), so it asks for them once the download is over, as Bitcoin nodes ignore
   * transactions during their initial download.
   */
  #deferred = new Map<Link, Set<string>>();
  #serve = new ServeQueue();
  #compact: CompactRelay;

  constructor(ledger: LedgerPort, hooks: RelayHooks) {
    this.#ledger = ledger;
    this.#hooks = hooks;
    this.#compact = new CompactRelay(ledger, {
      takeBlock: (link, bytes, others) => this.#takePushed(link, bytes, others),
      orphan: (link) => this.#startSync(link),
      misbehaved: (link, score, reason) => hooks.misbehaved(link, score, reason),
    }, this.#serve);
    this.#sync = new BlockSync(ledger, {
      misbehaved: (link, score, reason) => hooks.misbehaved(link, score, reason),
      now: () => this.#now(),
      finished: () => this.#synced(),
      connected: (link) => hooks.delivered?.(link),
    });
  }

  /** After a handshake: download if the far end has more work, and re-announce our pending transactions. */
  afterHandshake(link: Link, hello: HelloMessage): void {
    this.#ledger.peerTip?.(hello.tip.height);
    const tip = this.#ledger.tip();
    if (BigInt("0x" + hello.tip.work) > tip.work) this.#startSync(link);
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
    // A protocol-2 Peer knows no cmpctblock: it gets the block whole.
    const compact = targets.some((t) => !isLegacy(t)) ? this.#compact.message(bytes) : undefined;
    let whole: Message | undefined;
    for (const t of targets) {
      t.conn.send(compact && !isLegacy(t) ? compact : whole ??= { type: "block", data: toHex(bytes) });
    }
  }

  /** Looks for a stalled download (the network calls it about every second). */
  tick(): void {
    this.#sync.tick();
  }

  /** Pushes a transaction to `targets`. */
  pushTx(bytes: Uint8Array, targets: Link[]): void {
    if (!targets.length) return;
    const data = toHex(bytes);
    for (const t of targets) t.conn.send({ type: "tx", data });
  }

  /**
   * `link` has blocks we lack: it serves the download, and leads one if none runs. A protocol-2 Peer knows no
   * gethashes: it is never asked (it downloads from us with getblocks, which we serve).
   */
  #startSync(link: Link): void {
    if (isLegacy(link)) return;
    if (!this.#sync.active) this.#syncFrom = this.#ledger.tip().hash;
    this.#sync.offer(link);
  }

  /** A download ended: the new tip is announced once (whoever lacks its parents asks), deferred payments asked. */
  #synced(): void {
    const tip = this.#ledger.tip().hash;
    if (this.#syncFrom !== undefined && tip !== this.#syncFrom) {
      const bytes = this.#ledger.blockBytes(tip);
      if (bytes) this.pushBlock(bytes, this.#syncOthers());
    }
    this.#syncFrom = undefined;
    this.#askDeferred();
  }

  #now(): number {
    return this.#hooks.now?.() ?? Date.now();
  }

  /** True while a download is under way that transactions wait for (see `#sync`). */
  #downloading(): boolean {
    return this.#sync.progressed;
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
      case "block": {
        const bytes = fromHex(msg.data);
        const id = this.#sync.active ? this.#ledger.idOf("block", bytes) : undefined;
        if (id !== undefined) {
          this.#syncOthers = others;
          if (await this.#sync.onBlock(link, id, bytes)) return;
        }
        return await this.#takePushed(link, bytes, others);
      }
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
      case "gethashes": {
        await this.#serve.serveOne(link, () => {
          const ids = this.#ledger.hashesAfter(msg.locator as string[], MAX_HASHES);
          link.conn.send({ type: "hashes", ids });
          return ids.length * 32;
        });
        return;
      }
      case "hashes":
        this.#syncOthers = others;
        return this.#sync.onHashes(link, msg.ids);
      case "notfound":
        if (msg.kind === "block") this.#sync.onNotFound(link, msg.ids);
        return;
      case "blocks":
        // This node asks with gethashes and getdata; it serves getblocks, it never sends one.
        return this.#hooks.misbehaved(link, MALFORMED_SCORE, "blocks: not requested");
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
        return; // ping/pong and handshake messages need nothing here
    }
  }

  /** A block `link` pushed (whole, or rebuilt from its compact form): relayed on if it extends our chain. */
  async #takePushed(link: Link, bytes: Uint8Array, others: () => Link[]): Promise<void> {
    const v = await this.#ledger.receiveBlock(bytes, link.hello?.nodeId, false);
    if (v.kind === "accepted") {
      this.#hooks.news?.(link, "block");
      this.#hooks.delivered?.(link);
      this.pushBlock(bytes, others());
    } else if (v.kind === "orphan") {
      this.#syncOthers = others;
      this.#startSync(link); // one download at a time: a burst of orphans is not a burst of requests
    } else this.#judge(link, v);
  }

  #judge(link: Link, v: Verdict): void {
    if (v.kind === "rejected" && v.score > 0) this.#hooks.misbehaved(link, v.score, `${v.code}: ${v.reason}`);
  }
}
