/**
 * Joining the overlay: finding SuperPeers (`join`, following `full` and `redirect` answers), a Peer's second
 * SuperPeer (`seekSecond`), the failover when its only one is lost (`lostAll`) and the bounded rate at which
 * a node promotes itself. `Network` keeps the links and the role and makes every change to them; this class
 * keeps only what joining remembers (SuperPeers found dead, the backoff) and reaches the rest through
 * `JoiningHooks`.
 * @module
 */
import type { AddressBook } from "./address_book.ts";
import { normalizeAddress } from "./address_book.ts";
import {
  BACKUP_RETRY_MAX_MS,
  BACKUP_RETRY_MS,
  DEAD_FORGET_MS,
  FAILOVER_MAX_DIALS,
  FAILOVER_ROSTER_EXTRA_MS,
  FAILOVER_WAIT_MS,
  FOUND_WAIT_MS,
  JOIN_PARALLEL,
  JOIN_TRY,
  MAX_REDIRECTS,
  OWN_BOOK_SAMPLE,
  SELF_PROMOTE_MIN_MS,
  STALE_TIP_ASKS,
  STALE_TIP_MS,
  SUCCESSOR_RETRY_MS,
  SUCCESSOR_WAIT_MS,
} from "./config.ts";
import { DialBudget } from "./dial_budget.ts";
import type { Discover } from "./discovery.ts";
import type { Link } from "./link.ts";
import { type AskResult, entryOf, type Intent, type RoleState } from "./link_state.ts";
import type { PeerEntry, SuperPeerEntry } from "./messages.ts";
import {
  chooseSecond,
  failoverOrder,
  mayAddCapacity,
  type Refusal,
  refusalCounts,
  type SecondCandidate,
  staleTipOrder,
  successor,
  turnedAwayEnough,
} from "./overlay.ts";
import { type Clock, sleep } from "./transport.ts";

/** What joining needs of the network: its role, asking an address, and the role changes `Network` makes. */
export interface JoiningHooks {
  /** This node's id. */
  readonly nodeId: string;
  /** Time and timers. */
  readonly clock: Clock;
  /** Random numbers in [0, 1). */
  readonly random: () => number;
  /** Where SuperPeers were heard of, greeted and served. */
  readonly book: AddressBook;
  /** LAN discovery, when on. */
  readonly discover?: Discover;
  /** A link with no frame for this long is dead, in ms (the failover waits about that long for a successor). */
  readonly deadAfterMs: number;
  /** The address others dial to reach this node. */
  advertise(): string;
  /** True once the network is stopping. */
  stopping(): boolean;
  /** Where this node stands now (read again after every wait). */
  role(): RoleState;
  /** Dials `addr` and asks it for `intent`. */
  ask(addr: string, intent: Intent): Promise<AskResult>;
  /**
   * A SuperPeer took us on `link`: it becomes our primary, our backup, or one too many (also a backup on the
   * primary's host, unless `anyHost`: `seekSecond` chose it, none other being known).
   */
  took(link: Link, reason: string, anyHost?: boolean): void;
  /**
   * The stale-tip check's extra SuperPeer took us on `link`: kept (in place of a backup) only once it
   * delivered a block this node lacked ("kept"); "level" when its hello claims no more work than ours (nothing
   * to try), "failed" when it claimed more and delivered nothing.
   */
  extra(link: Link): Promise<"kept" | "level" | "failed">;
  /** This node's tip height. */
  tipHeight(): number;
  /** True when neither of this Peer's SuperPeers has sent it a block since it took them (it has no deliverer). */
  starved(): boolean;
  /** Lets go of a link we asked on and do not want. */
  release(link: Link, reason: string): void;
  /** The SuperPeer directory as this node knows it. */
  directory(): SuperPeerEntry[];
  /** Makes this node a SuperPeer. */
  promote(reason: string): void;
  /** Dials a SuperPeer for a mesh link. */
  dialMesh(addr: string): void;
  /** `ms` give or take 30 %. */
  jitter(ms: number): number;
}

/** Joining, the second SuperPeer and failover, for the network behind `JoiningHooks`. */
export class Joining {
  #h: JoiningHooks;
  /** SuperPeers recently found dead (node id → when), not to be chosen again for a while. */
  #dead = new Map<string, number>();
  /**
   * Addresses of our own book asked for a backup (address → when): asked once per `DEAD_FORGET_MS`, so a full
   * tracker SuperPeer is not asked again and again while the others it points to are tried.
   */
  #deadAddrs = new Map<string, number>();
  /**
   * Addresses the stale-tip check asked (address → until when it is not asked again), so the next check looks
   * elsewhere: `DEAD_FORGET_MS` for one found dead or that claimed blocks we lack and delivered none, half of
   * `STALE_TIP_MS` for the others (one level with us may have blocks by the check after next). At most
   * `STALE_TIP_ASKS` a check.
   */
  #fruitless = new Map<string, number>();
  #busyJoining = false;
  #seeking = false;
  /** How long a Peer without a second SuperPeer waits before it looks again (doubles while all are full). */
  #backupWait = BACKUP_RETRY_MS;
  /** When this node last promoted itself (`SELF_PROMOTE_MIN_MS` apart at least). */
  #lastOwnPromotion = -Infinity;
  /**
   * Dials of addresses other nodes named (`full` and `redirect` answers): the mesh's dial rate (4 a second,
   * burst 16), so answers cannot make a joining node dial without end or aim its dials at a third party. An
   * address is not dialled again within `SUCCESSOR_RETRY_MS` (the mesh's 5 s would stall a failover that
   * is pointed twice to the successor that has just promoted). Its own book's addresses are not counted.
   */
  #answerDials = new DialBudget({ redialMs: SUCCESSOR_RETRY_MS });

  /** Joining for the network behind `hooks`. */
  constructor(hooks: JoiningHooks) {
    this.#h = hooks;
  }

  /** This node promoted itself at `now`: the next self-promotion waits `SELF_PROMOTE_MIN_MS`. */
  promoted(now: number): void {
    this.#lastOwnPromotion = now;
  }

  /** Forgets SuperPeers found dead longer than `DEAD_FORGET_MS` ago. */
  expireDead(now: number): void {
    for (const [id, at] of this.#dead) if (now - at > DEAD_FORGET_MS) this.#dead.delete(id);
    for (const [a, at] of this.#deadAddrs) if (now - at > DEAD_FORGET_MS) this.#deadAddrs.delete(a);
    for (const [a, until] of this.#fruitless) if (now >= until) this.#fruitless.delete(a);
  }

  /**
   * Finds SuperPeers: tries the address book's candidates (greeted SuperPeers, the tracker, then hearsay)
   * a few at a time, following `full` and `redirect` answers; when none took it, those found on the LAN
   * (`discover`), all at once. With none to take it, it becomes a SuperPeer: linked to every SuperPeer it
   * reached, so a node turned away still belongs to the same network.
   */
  async join(reason: string, first: string[] = []): Promise<void> {
    if (this.#busyJoining || this.#h.stopping() || this.#h.role().kind !== "joining") return;
    this.#busyJoining = true;
    try {
      const tried = new Set<string>([this.#h.advertise()]);
      const reached: string[] = [], reachedHosts: string[] = [];
      // Addresses a full SuperPeer named as having room: turned away there too, capacity is short.
      const pointed = new Set<string>();
      // Proven SuperPeers that turned us away with nowhere else to go. A `promote` in their answer is only a
      // hint: one node (or one liar's many keys on one machine) cannot order us to promote.
      const refusals: Refusal[] = [];
      let promoteHint = false;
      const queue = [...first, ...this.#h.book.candidates(tried)];
      let hops = 0;
      let discover = this.#h.discover, width = JOIN_PARALLEL, maxWaitMs: number | undefined;
      while (this.#h.role().kind === "joining" && !this.#h.stopping()) {
        if (!queue.length) {
          if (!discover) break;
          // Found on the LAN: a forged answer may name a dead address, so all are dialled at once and
          // the first SuperPeer to take us ends the wait.
          const found = await discover.find();
          discover = undefined;
          queue.push(...found);
          width = Math.max(JOIN_PARALLEL, found.length);
          maxWaitMs = FOUND_WAIT_MS;
          continue;
        }
        const batch: string[] = [];
        while (queue.length && batch.length < width) {
          const a = normalizeAddress(queue.shift()!);
          if (a && !tried.has(a)) {
            tried.add(a);
            batch.push(a);
          }
        }
        if (!batch.length) continue;
        const answers = await this.#askToJoin(batch, reason, maxWaitMs);
        const next: string[] = [];
        for (const { a, r } of answers) {
          if (r.kind === "linked") continue; // taken as it came
          else if (r.kind === "full") {
            reached.push(a);
            reachedHosts.push(r.by.host);
            // A full SuperPeer that names others with room has not turned us away yet: they may take us.
            if (!r.try.length || pointed.has(a)) refusals.push(r.by);
            promoteHint ||= r.promote;
            if (hops < MAX_REDIRECTS) next.push(...r.try);
            for (const t of r.try) pointed.add(normalizeAddress(t) ?? t);
          } else if (r.kind === "redirect" && hops < MAX_REDIRECTS) next.push(...r.to);
          else if (r.kind === "busy") reached.push(a);
        }
        // Turned away by distinct SuperPeers where we were pointed to (news of each other's load is a little
        // old while the network grows) or with nowhere to go: capacity is short. Else on to the rest; once
        // every SuperPeer we could reach turned us away, the loop ends with the queue and we promote.
        if (this.#h.role().kind === "joining" && turnedAwayEnough(refusals, reachedHosts)) break;
        const allowed = this.#budgeted(next);
        if (allowed.length) hops++;
        queue.unshift(...allowed);
      }
      if (this.#h.role().kind !== "joining" || this.#h.stopping()) return;
      if (reached.length) {
        await this.#promotionRate();
        if (this.#h.role().kind !== "joining" || this.#h.stopping()) return;
        this.#h.promote(
          promoteHint ? "every SuperPeer is full: adding capacity" : "turned away: adding capacity",
        );
        for (const a of reached) this.#h.dialMesh(a);
      } else this.#h.promote(tried.size > 1 ? "no SuperPeer answered" : "no SuperPeer known");
    } finally {
      this.#busyJoining = false;
    }
  }

  /**
   * Asks each of `addrs` at once to take us as its Peer. A welcome is taken as it comes (the first becomes
   * primary, a later one backup); resolves with the answers so far once all are in, one took us, or
   * `maxWaitMs` passed, so one dead or silent address does not hold up a join another SuperPeer accepted.
   */
  #askToJoin(addrs: string[], reason: string, maxWaitMs?: number): Promise<{ a: string; r: AskResult }[]> {
    const answers: { a: string; r: AskResult }[] = [];
    return new Promise((resolve) => {
      const timer = maxWaitMs === undefined
        ? undefined
        : this.#h.clock.setTimeout(() => resolve([...answers]), maxWaitMs);
      for (const a of addrs) {
        this.#h.ask(a, { kind: "join", primary: true }).then((r) => {
          if (r.kind === "linked") this.#h.took(r.link, reason);
          answers.push({ a, r });
          if (answers.length === addrs.length || r.kind === "linked") {
            this.#h.clock.clearTimeout(timer);
            resolve([...answers]);
          }
        });
      }
    });
  }

  /**
   * A Peer with one SuperPeer takes a second when another exists, retrying until it has one. It asks the
   * SuperPeers it knows in turn (`chooseSecond`, evidence first), each proven key once per round, so a full one
   * is not asked again and again while others were never asked. Turned away (`mayAddCapacity`) by distinct
   * SuperPeers whose refusals count (`refusalCounts`: their own signed entries say they are full), or for
   * `SECOND_STALL_MS` by every one it could pick while its primary is full too, it adds capacity itself, at the
   * rate every self-promotion keeps.
   */
  async seekSecond(): Promise<void> {
    if (this.#seeking) return;
    this.#seeking = true;
    try {
      let next: string[] = [], quick = 0, pause = false;
      // The keys that turned it away this round (not picked again until every other was asked), and those of
      // them whose refusal counts (one per proven key). A `promote` hint in any of the round's answers is one
      // SuperPeer's handing out of a promotion (at its own rate): needed, never enough.
      const round = new Set<string>();
      const counted = new Map<string, Refusal>();
      let hinted = false;
      const since = this.#h.clock.now();
      while (!this.#h.stopping()) {
        const r = this.#h.role();
        if (r.kind !== "peer" || r.backup) return;
        const primary = entryOf(r.primary);
        let addr = next.shift();
        let pickId: string | undefined;
        // Chosen here by `chooseSecond` (which weighed the hosts), not named in another node's answer.
        const chosen = !addr;
        if (!addr) {
          let pick = this.#pickSecond(r, round);
          if (!pick && round.size) {
            // Every SuperPeer it could pick turned it away this round: capacity is short, or a new round.
            if (await this.#addCapacity([...counted.values()], hinted, since)) return;
            round.clear();
            counted.clear();
            hinted = false;
            pick = this.#pickSecond(r, round);
          }
          if (!pick) return; // one SuperPeer in all: nothing to take; a directory change calls again
          [addr, pickId] = [pick.listen, pick.nodeId];
        }
        if (pause) {
          // Every SuperPeer full: a second is a luxury, so look again later and later (it resets on success).
          // Then everything is looked at afresh: the role, the directory, which one to ask.
          pause = false;
          await sleep(this.#h.clock, this.#h.jitter(this.#backupWait));
          this.#backupWait = Math.min(2 * this.#backupWait, BACKUP_RETRY_MAX_MS);
          continue;
        }
        if (chosen && pickId === undefined) {
          this.#deadAddrs.set(normalizeAddress(addr) ?? addr, this.#h.clock.now());
        }
        const a = await this.#h.ask(addr, { kind: "join", primary: false, holds: primary.nodeId });
        if (a.kind === "linked" && pickId !== undefined && entryOf(a.link).nodeId !== pickId) {
          // Another key answers where the entry said this SuperPeer listens (an impostor, or the address
          // reused): not the one we chose, and the entry is not believed again for a while.
          this.#h.release(a.link, "not the SuperPeer its entry names");
          this.markDead(pickId);
          if (++quick <= MAX_REDIRECTS) continue;
        } else if (a.kind === "linked") {
          this.#backupWait = BACKUP_RETRY_MS;
          this.#h.took(a.link, "second SuperPeer", chosen);
        } else if (a.kind === "full") {
          round.add(a.by.nodeId);
          hinted ||= a.promote;
          const entry = this.#h.directory().find((e) => e.nodeId === a.by.nodeId);
          if (refusalCounts(entry)) {
            counted.set(a.by.nodeId, a.by);
          }
          if (await this.#addCapacity([...counted.values()], hinted)) return;
          if (a.try.length) {
            // Straight on to the ones it says have room, rather than waiting for the next round.
            const primaryAt = normalizeAddress(primary.listen);
            next = this.#budgeted(a.try.filter((t) => normalizeAddress(t) !== primaryAt).slice(0, JOIN_TRY));
            if (++quick <= MAX_REDIRECTS) continue;
          }
        } else if (a.kind === "redirect" && a.to.length) {
          // A node of our own book that is a Peer now names its SuperPeers: another way in than our primary's
          // word, so they are tried next (within the dial budget).
          const primaryAt = normalizeAddress(primary.listen);
          next = this.#budgeted(a.to.filter((t) => normalizeAddress(t) !== primaryAt).slice(0, JOIN_TRY));
          if (++quick <= MAX_REDIRECTS) continue;
        } else if (a.kind === "dead" && pickId) {
          this.markDead(pickId);
          if (++quick <= MAX_REDIRECTS) continue;
        }
        next = [];
        quick = 0;
        pause = true;
      }
    } finally {
      this.#seeking = false;
    }
  }

  /**
   * A second SuperPeer for the Peer `r` (`chooseSecond`), never its primary, one found dead, one of `round`, or
   * an address of its own book asked lately (unless nothing answered there then and a directory entry names it
   * now: a SuperPeer that came up since, a candidate like any other).
   */
  #pickSecond(
    r: Extract<RoleState, { kind: "peer" }>,
    round: ReadonlySet<string>,
  ): SecondCandidate | undefined {
    const primary = entryOf(r.primary);
    const dir = this.#h.directory();
    const entered = new Set(
      dir.filter((e) => !this.#h.book.wasGreeted(e.listen)).map((e) =>
        normalizeAddress(e.listen) ?? e.listen
      ),
    );
    const exclude = new Set([
      primary.nodeId,
      ...round,
      ...this.#dead.keys(),
      ...[primary.listen, this.#h.advertise()].map((a) => normalizeAddress(a) ?? a),
      ...[...this.#deadAddrs.keys()].filter((a) => !entered.has(a)),
    ]);
    return chooseSecond(dir, exclude, this.#h.random, {
      greeted: (a) => this.#h.book.wasGreeted(a),
      served: (a) => this.#h.book.wasServed(a),
      primaryHost: r.primary.conn.remote.hostname,
      ownBook: this.#h.book.own(OWN_BOOK_SAMPLE),
    });
  }

  /**
   * Promotes this Peer, still without a second, when `mayAddCapacity` says the refusals that count (`counted`)
   * are evidence enough (`hinted`: a `promote` hint came this round; `exhaustedSince`: every SuperPeer it could
   * pick turned it away, and it has sought a second since then, weighed with its primary's own entry). Waits for
   * the promotion rate first; true when it promoted or needs to no longer.
   */
  async #addCapacity(counted: Refusal[], hinted: boolean, exhaustedSince?: number): Promise<boolean> {
    const r = this.#h.role();
    if (r.kind !== "peer" || r.backup) return true;
    const reachedHosts = [...counted.map((x) => x.host), r.primary.conn.remote.hostname];
    const id = entryOf(r.primary).nodeId;
    const ok = mayAddCapacity({
      counted,
      hinted,
      reachedHosts,
      exhausted: exhaustedSince !== undefined,
      primary: this.#h.directory().find((e) => e.nodeId === id),
      seekingMs: exhaustedSince === undefined ? 0 : this.#h.clock.now() - exhaustedSince,
    });
    if (!ok) return false;
    await this.#promotionRate();
    const now = this.#h.role();
    if (now.kind === "peer" && !now.backup && !this.#h.stopping()) {
      this.#h.promote("every SuperPeer is full: adding capacity");
    }
    return true;
  }

  /**
   * Bitcoin Core's stale-tip check: no new block for `STALE_TIP_MS`, so other SuperPeers are tried, up to
   * `STALE_TIP_ASKS` (`staleTipOrder`: those of its own book that delivered before, the rest of its own book,
   * its directory's signed entries; then what the answers name). One that takes us is kept only once it
   * delivers a block this node lacked (`extra`), in place of the backup; its claim of a higher tip only lets the
   * trial begin. Each tried address is not tried again for `DEAD_FORGET_MS` unless kept, so the next check
   * looks elsewhere. Two SuperPeers that relay nothing cannot keep a Peer from the blocks of the network.
   */
  async staleTip(): Promise<void> {
    const r = this.#h.role();
    if (r.kind !== "peer" || this.#seeking) return;
    this.#seeking = true;
    try {
      const held = [r.primary, ...(r.backup ? [r.backup] : [])];
      const norm = (a: string) => normalizeAddress(a) ?? a;
      const exclude = new Set([
        ...held.map((l) => entryOf(l).nodeId),
        ...held.map((l) => norm(entryOf(l).listen)),
        norm(this.#h.advertise()),
        ...this.#dead.keys(),
        ...this.#fruitless.keys(),
      ]);
      const queue = staleTipOrder(
        this.#h.book.own(OWN_BOOK_SAMPLE),
        this.#h.directory().map((e) => ({ ...e, listen: norm(e.listen) })),
        exclude,
        {
          delivered: (a) => this.#h.book.hasDelivered(a),
          heldHosts: held.map((l) => l.conn.remote.hostname),
        },
        STALE_TIP_ASKS,
        this.#h.random,
      );
      const refusals: Refusal[] = [], reached: string[] = [];
      const starved = this.#h.starved();
      // Addresses an answer named: followed at once, one hop (the SuperPeers of a node of its own book that is a
      // Peer now are the likeliest to deliver), but what those name in turn is not: a band's redirects cannot
      // take every ask.
      const named = new Set<string>();
      for (let asked = 0; queue.length && asked < STALE_TIP_ASKS && !this.#h.stopping(); asked++) {
        const addr = queue.shift()!;
        exclude.add(norm(addr));
        const a = await this.#h.ask(addr, { kind: "join", primary: false, holds: entryOf(r.primary).nodeId });
        // Dead, or claimed blocks we lack and delivered none: not asked again for a while; any other, for less
        // (before the network's first block every SuperPeer is level with us, and may not be by the next checks).
        const rest = (long: boolean) =>
          this.#fruitless.set(norm(addr), this.#h.clock.now() + (long ? DEAD_FORGET_MS : STALE_TIP_MS / 2));
        if (a.kind !== "linked") rest(a.kind === "dead");
        else {
          const id = entryOf(a.link).nodeId;
          const tried = !exclude.has(id) && this.#h.role().kind === "peer"
            ? await this.#h.extra(a.link)
            : "level";
          if (tried === "kept") return;
          rest(tried === "failed");
          this.#h.release(a.link, "stale tip: it delivered no block we lacked");
          exclude.add(id);
        }
        if (this.#h.role().kind !== "peer") return;
        // A full SuperPeer counts as a refusal only if it delivered blocks to this node before (evidence it relays
        // them), or while no SuperPeer ever delivered one to this Peer (nothing better to go by: captured from its
        // start); its claim of a higher tip only narrows that.
        if (
          a.kind === "full" && (this.#h.book.hasDelivered(addr) || starved) &&
          (a.by.height ?? 0) > this.#h.tipHeight()
        ) {
          (refusals.push(a.by), reached.push(addr));
        }
        if (named.has(addr)) continue;
        const next = (a.kind === "full" ? a.try : a.kind === "redirect" ? a.to : []).slice(0, JOIN_TRY);
        const fresh = this.#budgeted(next.filter((t) => !exclude.has(norm(t)) && !queue.includes(t)));
        for (const t of fresh) named.add(t);
        queue.unshift(...fresh);
      }
      // Every SuperPeer reached that delivered blocks before and says it has more turned us away (one that took
      // us and delivered would have been kept), while ours bring none: capacity with the blocks is short, so this
      // node adds some, linked to them (a SuperPeer takes mesh links). At most once per `SELF_PROMOTE_MIN_MS`,
      // like every self-promotion.
      if (refusals.length && this.#h.role().kind === "peer") {
        await this.#promotionRate();
        if (this.#h.role().kind !== "peer" || this.#h.stopping()) return;
        this.#h.promote("stale tip: the SuperPeers with newer blocks are full");
        for (const a of reached) this.#h.dialMesh(a);
      }
    } finally {
      this.#seeking = false;
    }
  }

  /**
   * Our only SuperPeer is gone. First the SuperPeers this node greeted before (proven to exist) with a bounded
   * sample of the other entries, all at once and for at most `FAILOVER_WAIT_MS`; with none greeted, that
   * sample is dialled alongside the roster's successor instead of before it, since entries are hearsay (a
   * flood of made-up ones must not stall the failover). The lost SuperPeer's roster says who takes over: its
   * first live Peer promotes itself, the rest dial it.
   */
  async lostAll(dead: PeerEntry, roster: PeerEntry[], known: SuperPeerEntry[]): Promise<void> {
    const reason = `lost SuperPeer ${dead.listen}`;
    const others = known.filter((e) =>
      e.nodeId !== dead.nodeId && e.nodeId !== this.#h.nodeId && !this.#dead.has(e.nodeId)
    );
    const order = failoverOrder(
      others,
      (e) => this.#h.book.wasGreeted(e.listen),
      FAILOVER_MAX_DIALS,
      this.#h.random,
    );
    let hearsay: Promise<{ a: string; r: AskResult }[]> | undefined;
    // SuperPeers that answered but were full: a successor that promotes links to them.
    const reached: string[] = [];
    const note = (answers: { a: string; r: AskResult }[]) => {
      for (const { a, r } of answers) if (r.kind === "full" || r.kind === "busy") reached.push(a);
    };
    if (order.greeted.length) {
      note(await this.#askToJoin([...order.greeted, ...order.rest], reason, FAILOVER_WAIT_MS));
      if (this.#h.role().kind !== "joining" || this.#h.stopping()) return;
    } else if (order.rest.length) hearsay = this.#askToJoin(order.rest, reason, SUCCESSOR_WAIT_MS);
    const gone = new Set([dead.nodeId]);
    const deadline = this.#h.clock.now() + this.#h.deadAfterMs + FAILOVER_ROSTER_EXTRA_MS;
    while (this.#h.role().kind === "joining" && !this.#h.stopping() && this.#h.clock.now() < deadline) {
      const next = successor(roster, gone);
      if (!next || next.nodeId === this.#h.nodeId) {
        // The successor lets the entries it dialled answer first (bounded by SUCCESSOR_WAIT_MS): one may be
        // a live SuperPeer, and then no new one is needed.
        if (hearsay) note(await hearsay);
        if (this.#h.role().kind !== "joining" || this.#h.stopping()) return;
        this.#h.promote(`successor of ${dead.listen}`);
        for (const a of reached) this.#h.dialMesh(a);
        return;
      }
      const a = await this.#h.ask(next.listen, { kind: "join", primary: true });
      if (a.kind === "linked") return this.#h.took(a.link, `failover from ${dead.listen}`);
      if (a.kind === "dead") {
        gone.add(next.nodeId);
        continue;
      }
      // A successor that still names the dead SuperPeer has not noticed its death yet: give it a moment.
      const elsewhere = (a.kind === "full" ? a.try : a.kind === "redirect" ? a.to : [])
        .filter((x) => normalizeAddress(x) !== normalizeAddress(dead.listen));
      if (elsewhere.length) return this.join(`failover from ${dead.listen}`, [...elsewhere]);
      await sleep(this.#h.clock, this.#h.jitter(SUCCESSOR_RETRY_MS));
    }
    if (this.#h.role().kind === "joining") await this.join(`lost SuperPeer ${dead.listen}`);
  }

  /**
   * Waits until this node may promote itself again: at most once per `SELF_PROMOTE_MIN_MS`, so answers that
   * keep turning it away (or liars) cannot make it flap between roles.
   */
  async #promotionRate(): Promise<void> {
    const wait = this.#lastOwnPromotion + SELF_PROMOTE_MIN_MS - this.#h.clock.now();
    if (wait > 0) await sleep(this.#h.clock, wait);
  }

  /** Those of `addrs` (named in another node's answer) the dial budget lets this node dial now. */
  #budgeted(addrs: readonly string[]): string[] {
    const now = this.#h.clock.now();
    return addrs.filter((a) => this.#answerDials.take(normalizeAddress(a) ?? a, now));
  }

  /** Marks `nodeId` dead: not chosen again for `DEAD_FORGET_MS`. */
  markDead(nodeId: string): void {
    this.#dead.set(nodeId, this.#h.clock.now());
  }
}
