/**
 * A bound on Ed25519 signature checks in flight. WebCrypto verifies off the main thread, but Deno slows down
 * more than linearly with thousands of pending `crypto.subtle.verify` calls, and the event loop stalls while
 * they settle: a flood of signatures must queue here instead of piling up there.
 *
 * Fairness: checks come in groups (one transaction's inputs). Urgent groups (blocks being connected, our own
 * payments) start first; the others take turns, one check per group per turn, so a one-input payment waits for
 * at most one check of each transaction ahead of it, never for all of a large transaction's inputs. A group
 * stops starting checks at its first invalid signature: what it had not started is never started.
 * @module
 */
import { verify } from "./ed25519.ts";

/** Signature checks running at once: past about 16, throughput stops rising and the event loop's stalls grow. */
const MAX_VERIFY_IN_FLIGHT = 16;

/** One signature to check. */
export interface VerifyItem {
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** 64-byte signature. */
  signature: Uint8Array<ArrayBuffer>;
  /** The signed message. */
  message: Uint8Array<ArrayBuffer>;
}

interface Group {
  items: VerifyItem[];
  /** Index of the next item to start. */
  next: number;
  /** Checks started and not yet settled. */
  running: number;
  /** Lowest index of an invalid item among those settled, or -1. */
  bad: number;
  done: (bad: number) => void;
}

/** How `VerifyQueue.verifyAll` runs a group. */
export interface VerifyAllOptions {
  /** Ahead of the others (a block being connected, our own payment). */
  urgent?: boolean;
  /**
   * Aborted: none of the group's checks starts any more, and it settles once those running have, answering an
   * index at or past the last started (its caller has given up on the group).
   */
  signal?: AbortSignal;
}

/** A queue of signature checks with at most `max` in flight. */
export class VerifyQueue {
  #inFlight = 0;
  #started = 0;
  #waiting = 0;
  #urgent: Group[] = [];
  #normal: Group[] = [];
  #turn = 0;
  /** A queued group may have failed since the last `#drop`: only then are the lists scanned. */
  #failed = false;

  #verify: (item: VerifyItem) => Promise<boolean>;

  /** A queue running at most `max` checks at once; `check` is injectable for tests. */
  constructor(
    readonly max: number = MAX_VERIFY_IN_FLIGHT,
    check: (item: VerifyItem) => Promise<boolean> = (i) => verify(i.publicKey, i.signature, i.message),
  ) {
    this.#verify = check;
  }

  /** Checks started and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Checks started since the queue was made (what a refusal before signatures must not add to). */
  get started(): number {
    return this.#started;
  }

  /** Checks waiting to start. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Checks every item; resolves to the lowest index of an invalid one, or -1. After a failure no more of the
   * group's checks are started; those running settle first, so the answer does not depend on which ends first.
   * @example One valid signature and one forged: the index of the bad one
   * ```ts
   * import { generateKeyPair, sign, VerifyQueue } from "@peerchain/peerchain";
   * import assert from "node:assert/strict";
   *
   * const { privateKey, publicKey } = await generateKeyPair();
   * const message = new Uint8Array(32);
   * const signature = await sign(privateKey, message);
   * const queue = new VerifyQueue(4);
   * assert.equal(await queue.verifyAll([{ publicKey, signature, message }]), -1);
   * const forged = signature.map((b, i) => i === 0 ? b ^ 1 : b);
   * assert.equal(await queue.verifyAll([{ publicKey, signature, message }, { publicKey, signature: forged, message }]), 1);
   * ```
   */
  verifyAll(items: VerifyItem[], opts: VerifyAllOptions = {}): Promise<number> {
    if (items.length === 0) return Promise.resolve(-1);
    if (opts.signal?.aborted) return Promise.resolve(0); // given up before anything started
    return new Promise((done) => {
      const group: Group = { items, next: 0, running: 0, bad: -1, done };
      (opts.urgent ? this.#urgent : this.#normal).push(group);
      this.#waiting += items.length;
      opts.signal?.addEventListener("abort", () => {
        // As if the next item failed: nothing more starts, and the answer names no item that was checked.
        if (group.bad < 0) group.bad = group.next;
        this.#failed = true;
        this.#settle(group);
      }, { once: true });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.max) {
      const group = this.#pick();
      if (!group) return;
      const index = group.next++;
      const item = group.items[index];
      this.#waiting--;
      this.#inFlight++;
      this.#started++;
      group.running++;
      const settled = (ok: boolean) => {
        this.#inFlight--;
        group.running--;
        // The lowest bad index, whatever order checks settle in (a pool answers out of order): every index
        // below a started one was started before it, so once none runs, no lower one can still fail.
        if (!ok && (group.bad < 0 || index < group.bad)) {
          group.bad = index;
          this.#failed = true;
        }
        this.#settle(group);
        this.#pump();
      };
      this.#verify(item).then(settled, () => settled(false));
    }
  }

  /** The group whose turn it is: urgent ones first (in order), then the others in rotation. */
  #pick(): Group | undefined {
    if (this.#failed) {
      // Scanned only after a failure: a burst of thousands of payments must not cost a scan per check.
      this.#failed = false;
      this.#drop(this.#urgent);
      this.#drop(this.#normal);
    }
    if (this.#urgent.length) return this.#take(this.#urgent, 0);
    if (!this.#normal.length) return undefined;
    this.#turn %= this.#normal.length;
    const g = this.#take(this.#normal, this.#turn);
    if (this.#normal[this.#turn] === g) this.#turn++; // still queued: the next group's turn
    return g;
  }

  /** The group at `at`, taken off `list` when it has nothing more to start after this check. */
  #take(list: Group[], at: number): Group {
    const g = list[at];
    if (g.next >= g.items.length - 1) list.splice(at, 1);
    return g;
  }

  /** Removes groups that failed while queued: their remaining checks are never started. */
  #drop(list: Group[]): void {
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].bad < 0) continue;
      this.#waiting -= list[i].items.length - list[i].next;
      list.splice(i, 1); // it settles when its running checks do
      if (i < this.#turn && list === this.#normal) this.#turn--;
    }
  }

  #settle(group: Group): void {
    if (group.running > 0) return;
    if (group.bad >= 0 || group.next >= group.items.length) group.done(group.bad);
  }
}

/** The process-wide queue every signature check goes through. */
export const verifyQueue: VerifyQueue = new VerifyQueue();
