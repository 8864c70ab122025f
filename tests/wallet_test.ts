/**
 * The wallet (lib/wallet/wallet.ts): balances, coin selection, change and signing, first over a fake
 * `WalletView` filled by hand, then on a real regtest chain and mempool, which must accept every transaction
 * the wallet builds. Its file is `wallet_file_test.ts`'s.
 */
import assert from "node:assert/strict";
import { fc } from "./support/test_deps.ts";
import type { OwnedCoin } from "../lib/chain/coins.ts";
import type { Chain } from "../lib/chain/chain.ts";
import type { Mempool } from "../lib/chain/mempool.ts";
import { isMature } from "../lib/chain/tx_rules.ts";
import { COIN, formatAmount, MAX_MONEY } from "../lib/consensus/amount.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { AddressError, decodeAddress, encodeAddress, pubKeyHash } from "../lib/crypto/address.ts";
import { verify } from "../lib/crypto/ed25519.ts";
import {
  encodeTransaction,
  type OutPoint,
  outpointKey,
  OUTPUT_SIZE,
  sigHash,
  type Transaction,
  txid,
  txSize,
} from "../lib/primitives/transaction.ts";
import {
  DEFAULT_FEE_RATE,
  InsufficientFunds,
  isMatureForNextBlock,
  MAX_WALLET_TX_SIZE,
  Wallet,
  WalletError,
  type WalletView,
  walletViewOf,
} from "../lib/wallet/wallet.ts";
import { mine, newKey, newLedger, params } from "./support/ledger.ts";
import { withTempDir } from "./support/temp_dir.ts";

const regtest = NETWORKS.regtest;
const SUBSIDY = 50 * COIN;

const balance = (confirmed: number, immature: number, pending: number) => ({ confirmed, immature, pending });

let txCounter = 0;

/** A chain and mempool reduced to what the wallet sees, filled by hand. */
class FakeView implements WalletView {
  height = 100;
  coinbaseMaturity = 10;
  confirmed: OwnedCoin[] = [];
  unconfirmed: OwnedCoin[] = [];
  spent = new Set<string>();

  coinsOf(pkhs: ReadonlySet<string>): OwnedCoin[] {
    return this.confirmed.filter((c) => pkhs.has(c.coin.pubKeyHash));
  }
  mempoolCoinsOf(pkhs: ReadonlySet<string>): OwnedCoin[] {
    return this.unconfirmed.filter((c) => pkhs.has(c.coin.pubKeyHash));
  }
  isSpentInMempool(o: OutPoint): boolean {
    return this.spent.has(outpointKey(o));
  }
  /** Coins whose unconfirmed chain is full, and how often `canSpend` was asked. */
  blocked = new Set<string>();
  asked = 0;
  canSpend(o: OutPoint): boolean {
    this.asked++;
    return !this.blocked.has(outpointKey(o));
  }
  all(): OwnedCoin[] {
    return [...this.confirmed, ...this.unconfirmed];
  }

  /** Adds a coin of `amount` base units paying `pkh`. */
  add(pkh: string, amount: number, o: { height?: number; coinbase?: boolean; mempool?: boolean } = {}) {
    const outpoint = { txid: (++txCounter).toString(16).padStart(64, "0"), index: txCounter % 3 };
    const c: OwnedCoin = {
      outpoint,
      coin: {
        amount,
        pubKeyHash: pkh,
        height: o.mempool ? this.height + 1 : o.height ?? 50,
        coinbase: !!o.coinbase,
      },
    };
    (o.mempool ? this.unconfirmed : this.confirmed).push(c);
    return c;
  }
}

const OTHER_PKH = "ab".repeat(20);
const OTHER = encodeAddress(OTHER_PKH, "pcrt");

/**
 * Asserts `tx` is a well-formed, correctly signed payment of `amount` to `to` out of `view`'s spendable
 * coins, with change to the wallet and outputs = inputs − fee; returns the spent coins.
 */
async function assertPayment(
  w: Wallet,
  view: FakeView,
  r: { tx: Transaction; fee: number },
  amount: number,
  feeRate = DEFAULT_FEE_RATE,
): Promise<OwnedCoin[]> {
  const { tx, fee } = r;
  assert.equal(tx.version, 1);
  assert.equal(tx.lockTime, 0);
  assert.deepEqual(tx.outputs[0], { amount, pubKeyHash: OTHER_PKH });
  assert.ok(tx.outputs.length === 1 || tx.outputs.length === 2);
  if (tx.outputs[1]) {
    assert.ok(w.pubKeyHashes.has(tx.outputs[1].pubKeyHash), "change goes to the wallet");
    assert.notEqual(tx.outputs[1].pubKeyHash, w.pubKeyHash, "to a change address, not the receiving one");
  }
  assert.ok(tx.outputs.every((o) => o.amount > 0));
  const byKey = new Map(view.all().map((c) => [outpointKey(c.outpoint), c]));
  const spent = tx.inputs.map((i) => byKey.get(outpointKey(i.prevout))!);
  assert.ok(spent.every((c) => c !== undefined), "inputs are coins of the view");
  assert.equal(new Set(tx.inputs.map((i) => outpointKey(i.prevout))).size, tx.inputs.length);
  for (const c of spent) {
    assert.ok(isMatureForNextBlock(c.coin, view), "no immature coinbase is spent");
    assert.ok(!view.isSpentInMempool(c.outpoint), "no coin a mempool transaction spends is spent");
  }
  const sum = (xs: { amount: number }[]) => xs.reduce((s, x) => s + x.amount, 0);
  assert.equal(sum(tx.outputs), sum(spent.map((c) => c.coin)) - fee, "outputs = inputs - fee");
  assert.equal(txSize(tx), encodeTransaction(tx).length);
  const minFee = Math.ceil(feeRate * txSize(tx));
  if (tx.outputs.length === 2) assert.equal(fee, minFee);
  else assert.ok(fee >= minFee && fee <= minFee + feeRate * OUTPUT_SIZE, `fee ${fee}, size fee ${minFee}`);
  const message = sigHash(tx);
  for (const [i, input] of tx.inputs.entries()) {
    assert.equal(pubKeyHash(input.publicKey), spent[i].coin.pubKeyHash, `input ${i} key pays the spent coin`);
    assert.ok(await verify(input.publicKey, input.signature, message), `input ${i} signature`);
  }
  return spent;
}

Deno.test("the wallet's maturity rule is the consensus rule at the next block's height", () => {
  for (let tip = 0; tip < 30; tip++) {
    for (let h = 0; h <= tip; h++) {
      for (const coinbase of [true, false]) {
        const coin = { amount: 1, pubKeyHash: OTHER_PKH, height: h, coinbase };
        const view = { height: tip, coinbaseMaturity: NETWORKS.regtest.coinbaseMaturity };
        assert.equal(
          isMatureForNextBlock(coin, view),
          isMature(coin, tip + 1, NETWORKS.regtest.coinbaseMaturity),
        );
      }
    }
  }
});

Deno.test("balance: confirmed, immature and pending, never counting a coin the mempool spends", async () => {
  const w = await Wallet.createInMemory(regtest);
  const second = decodeAddress(await w.newAddress(), "pcrt");
  const v = new FakeView();
  v.add(w.pubKeyHash, 1 * COIN); // confirmed
  v.add(second, 2 * COIN); // confirmed, second key
  v.add(w.pubKeyHash, 4 * COIN, { coinbase: true, height: v.height + 1 - v.coinbaseMaturity }); // just mature
  v.add(w.pubKeyHash, 8 * COIN, { coinbase: true, height: v.height + 2 - v.coinbaseMaturity }); // immature
  v.spent.add(outpointKey(v.add(w.pubKeyHash, 16 * COIN).outpoint)); // being spent
  v.add(w.pubKeyHash, 32 * COIN, { mempool: true }); // pending
  v.spent.add(outpointKey(v.add(w.pubKeyHash, 64 * COIN, { mempool: true }).outpoint)); // pending, respent
  v.add(OTHER_PKH, 128 * COIN); // someone else's
  v.add(OTHER_PKH, 256 * COIN, { mempool: true });
  assert.deepEqual(w.balance(v), { confirmed: 7 * COIN, immature: 8 * COIN, pending: 32 * COIN });
});

Deno.test("createTransaction: one coin pays, change returns, signatures verify over sigHash", async () => {
  const w = await Wallet.createInMemory(regtest);
  const v = new FakeView();
  v.add(w.pubKeyHash, 50 * COIN, { coinbase: true, height: 1 });
  const r = await w.createTransaction(v, OTHER, 3 * COIN);
  const [coin] = await assertPayment(w, v, r, 3 * COIN);
  assert.equal(r.tx.inputs.length, 1);
  assert.equal(r.fee, 198 * DEFAULT_FEE_RATE, "1 input, 2 outputs: 198 bytes");
  assert.equal(r.tx.outputs[1].amount, coin.coin.amount - 3 * COIN - r.fee);
  const cheap = await w.createTransaction(v, OTHER.toUpperCase(), 3 * COIN, { feeRate: 1 });
  assert.equal(cheap.fee, 198);
  await assertPayment(w, v, cheap, 3 * COIN, 1);
});

Deno.test("createTransaction: immature coinbases and coins the mempool spends are never used", async () => {
  const w = await Wallet.createInMemory(regtest);
  const v = new FakeView();
  v.add(w.pubKeyHash, 50 * COIN, { coinbase: true, height: v.height + 2 - v.coinbaseMaturity });
  v.spent.add(outpointKey(v.add(w.pubKeyHash, 40 * COIN).outpoint));
  v.spent.add(outpointKey(v.add(w.pubKeyHash, 30 * COIN, { mempool: true }).outpoint));
  const ok = v.add(w.pubKeyHash, 2 * COIN);
  const r = await w.createTransaction(v, OTHER, 1 * COIN);
  assert.deepEqual((await assertPayment(w, v, r, 1 * COIN)).map((c) => c.outpoint), [ok.outpoint]);
  await assert.rejects(w.createTransaction(v, OTHER, 3 * COIN), (e: unknown) => {
    assert.ok(e instanceof InsufficientFunds && e instanceof WalletError);
    assert.equal(e.available, 2 * COIN);
    assert.equal(e.needed, 3 * COIN + 170 * DEFAULT_FEE_RATE);
    assert.equal(
      e.message,
      "insufficient funds: 2 coins spendable, 3.000017 needed (3 + fee 0.000017); another 50 is still maturing",
    );
    return true;
  });
});

Deno.test("createTransaction: confirmed coins first, then our unconfirmed outputs", async () => {
  const w = await Wallet.createInMemory(regtest);
  const v = new FakeView();
  const confirmed = v.add(w.pubKeyHash, 1 * COIN);
  const change = v.add(w.pubKeyHash, 5 * COIN, { mempool: true });
  const small = await w.createTransaction(v, OTHER, COIN / 2);
  assert.deepEqual((await assertPayment(w, v, small, COIN / 2)).map((c) => c.outpoint), [confirmed.outpoint]);
  const big = await w.createTransaction(v, OTHER, 3 * COIN);
  const spent = (await assertPayment(w, v, big, 3 * COIN)).map((c) => c.outpoint);
  assert.deepEqual(spent, [confirmed.outpoint, change.outpoint]);
});

Deno.test("createTransaction: a coin that cannot be spent now (its unconfirmed chain is full) is skipped, and only the coins a payment takes are asked about", async () => {
  const w = await Wallet.createInMemory(regtest);
  const v = new FakeView();
  const full = v.add(w.pubKeyHash, 9 * COIN, { mempool: true });
  const ok = v.add(w.pubKeyHash, 4 * COIN, { mempool: true });
  for (let i = 0; i < 100; i++) v.add(w.pubKeyHash, COIN / 1000, { mempool: true });
  v.blocked.add(outpointKey(full.outpoint));
  const r = await w.createTransaction(v, OTHER, 2 * COIN);
  assert.deepEqual((await assertPayment(w, v, r, 2 * COIN)).map((c) => c.outpoint), [ok.outpoint]);
  assert.equal(v.asked, 2, "the largest (refused) and the next; not the hundred small ones");
});

Deno.test("createTransaction refuses to build a transaction bigger than MAX_WALLET_TX_SIZE", async () => {
  const w = await Wallet.createInMemory(regtest);
  const v = new FakeView();
  for (let i = 0; i < 1000; i++) v.add(w.pubKeyHash, COIN / 100);
  const r = await w.createTransaction(v, OTHER, 5 * COIN);
  assert.ok(r.tx.inputs.length > 500 && txSize(r.tx) <= MAX_WALLET_TX_SIZE);
  await assertPayment(w, v, r, 5 * COIN);
  await assert.rejects(w.createTransaction(v, OTHER, 9 * COIN), (e: unknown) => {
    assert.ok(e instanceof WalletError && !(e instanceof InsufficientFunds));
    assert.match(e.message, /^paying 9 would take more than \d+ coins, a transaction over 100000 bytes/);
    return true;
  });
});

Deno.test("createTransaction: random wallets either pay correctly or refuse for insufficient funds", async () => {
  const w = await Wallet.createInMemory(regtest);
  const coin = fc.record({
    amount: fc.integer({ min: 1, max: 20 * COIN }),
    kind: fc.constantFrom("plain", "coinbase", "mempool", "spent"),
    age: fc.integer({ min: 0, max: 20 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(coin, { maxLength: 12 }),
      fc.integer({ min: 1, max: 60 * COIN }),
      async (cs, amount) => {
        const v = new FakeView();
        for (const c of cs) {
          const o = v.add(w.pubKeyHash, c.amount, {
            coinbase: c.kind === "coinbase",
            height: v.height - c.age,
            mempool: c.kind === "mempool",
          });
          if (c.kind === "spent") v.spent.add(outpointKey(o.outpoint));
        }
        const spendable = w.spendable(v).reduce((s, c) => s + c.coin.amount, 0);
        try {
          await assertPayment(w, v, await w.createTransaction(v, OTHER, amount), amount);
        } catch (e) {
          if (!(e instanceof InsufficientFunds)) throw e;
          assert.equal(e.available, spendable);
          assert.ok(spendable < e.needed);
        }
      },
    ),
    { numRuns: 60 },
  );
});

// ---- on a real chain and mempool ----

/**
 * Checks a payment against the chain and mempool it was built from: it pays `amount` to `to`, the change (if
 * any) returns to the wallet, outputs = inputs − fee with fee = rate × size, every input is a mature coin
 * whose key hash the input's key has and whose signature verifies over sigHash. Returns the input total.
 */
async function assertPaymentOnChain(
  wallet: Wallet,
  mempool: Mempool,
  view: WalletView,
  r: { tx: Transaction; fee: number },
  to: string,
  amount: number,
): Promise<number> {
  const { tx, fee } = r;
  assert.deepEqual(tx.outputs[0], { amount, pubKeyHash: to });
  let inputs = 0;
  const message = sigHash(tx);
  for (const [i, input] of tx.inputs.entries()) {
    const coin = mempool.getCoin(input.prevout);
    assert.ok(coin, `input ${i} spends an existing coin`);
    assert.ok(!mempool.isSpent(input.prevout), `input ${i} is not already spent in the mempool`);
    assert.ok(wallet.pubKeyHashes.has(coin.pubKeyHash), `input ${i} is the wallet's`);
    assert.ok(
      !coin.coinbase || view.height + 1 - coin.height >= params.coinbaseMaturity,
      `input ${i} mature`,
    );
    assert.equal(pubKeyHash(input.publicKey), coin.pubKeyHash, `input ${i} key hashes to the coin's`);
    assert.ok(await verify(input.publicKey, input.signature, message), `input ${i} signature verifies`);
    inputs += coin.amount;
  }
  const outputs = tx.outputs.reduce((s, o) => s + o.amount, 0);
  assert.equal(outputs, inputs - fee, "outputs = inputs − fee");
  if (tx.outputs.length === 2) {
    assert.ok(wallet.pubKeyHashes.has(tx.outputs[1].pubKeyHash), "change to self");
    assert.notEqual(tx.outputs[1].pubKeyHash, wallet.pubKeyHash, "to a change address");
    assert.ok(tx.outputs[1].amount > 0);
    assert.equal(fee, DEFAULT_FEE_RATE * txSize(tx));
  } else {
    assert.equal(tx.outputs.length, 1);
    assert.ok(fee >= DEFAULT_FEE_RATE * txSize(tx), "a dropped change only raises the fee");
  }
  return inputs;
}

/** Runs `fn` with a new in-memory wallet and a new ledger, closing the ledger's store afterwards, also on failure. */
async function withWalletLedger(
  fn: (w: Wallet, chain: Chain, mempool: Mempool) => Promise<void>,
): Promise<void> {
  const { chain, mempool, store } = newLedger();
  try {
    await fn(await Wallet.createInMemory(params), chain, mempool);
  } finally {
    store.close();
  }
}

Deno.test("balance: coinbases split into confirmed and immature exactly at the maturity depth", async () => {
  await withWalletLedger(async (w, chain, mempool) => {
    for (let t = 1; t <= 12; t++) {
      await mine(chain, mempool, w.pubKeyHash);
      const mature = Math.max(0, t + 1 - params.coinbaseMaturity); // heights h with t + 1 − h ≥ maturity
      const b = w.balance(walletViewOf(chain, mempool));
      assert.deepEqual(b, balance(mature * SUBSIDY, (t - mature) * SUBSIDY, 0), `at height ${t}`);
    }
    assert.deepEqual(w.balance(walletViewOf(chain, mempool)), balance(3 * SUBSIDY, 9 * SUBSIDY, 0));
    assert.ok(w.spendable(walletViewOf(chain, mempool)).every((c) => c.coin.height <= 3));
  });
});

Deno.test("payments from keys read back from disk are accepted; change is spendable before it confirms", async () => {
  await withTempDir(async (dir) => {
    const { chain, mempool, store } = newLedger();
    try {
      const path = `${dir}/wallet.json`;
      await mine(chain, mempool, (await Wallet.open(path, params)).pubKeyHash, 12);
      const w = await Wallet.open(path, params); // the keys now come from the file
      const bob = await newKey(), toBob = encodeAddress(bob.pkh, params.addressPrefix);

      const view1 = walletViewOf(chain, mempool), amount1 = 7 * COIN + 1234;
      const p1 = await w.createTransaction(view1, toBob, amount1);
      assert.equal(await assertPaymentOnChain(w, mempool, view1, p1, bob.pkh, amount1), SUBSIDY, "one coin");
      assert.equal(p1.tx.outputs.length, 2);
      assert.equal((await mempool.accept(p1.tx))[0].fee, p1.fee);
      const change1 = p1.tx.outputs[1].amount;
      assert.deepEqual(w.balance(walletViewOf(chain, mempool)), balance(2 * SUBSIDY, 9 * SUBSIDY, change1));

      // More than the confirmed coins hold: the unconfirmed change must be spent too.
      const view2 = walletViewOf(chain, mempool), amount2 = 120 * COIN;
      const p2 = await w.createTransaction(view2, toBob, amount2);
      assert.equal(
        await assertPaymentOnChain(w, mempool, view2, p2, bob.pkh, amount2),
        2 * SUBSIDY + change1,
      );
      assert.ok(p2.tx.inputs.some((i) => i.prevout.txid === txid(p1.tx)), "spends the unconfirmed change");
      assert.equal(p2.tx.inputs[p2.tx.inputs.length - 1].prevout.txid, txid(p1.tx), "confirmed coins first");
      await mempool.accept(p2.tx);
      const change2 = p2.tx.outputs[1].amount;
      assert.deepEqual(w.balance(walletViewOf(chain, mempool)), balance(0, 9 * SUBSIDY, change2));
      assert.equal(3 * SUBSIDY - amount1 - amount2 - p1.fee - p2.fee, change2, "nothing lost on the way");
      // What is left to pay with is the pending change; the coinbases still maturing are not spent.
      await assert.rejects(
        w.createTransaction(walletViewOf(chain, mempool), toBob, change2 + COIN),
        /still maturing/,
      );

      await mine(chain, mempool, w.pubKeyHash);
      assert.equal(mempool.size, 0, "both payments confirmed");
      // The coinbase of height 4 matured; those of heights 5..13 mature later, the last one with the fees.
      const after = balance(SUBSIDY + change2, 9 * SUBSIDY + p1.fee + p2.fee, 0);
      assert.deepEqual(w.balance(walletViewOf(chain, mempool)), after);
      assert.deepEqual(chain.coinsOf(new Set([bob.pkh])).map((c) => c.coin.amount).sort(), [
        amount2,
        amount1,
      ]);
    } finally {
      store.close();
    }
  });
});

Deno.test("inputs of several keys are each signed by their own key and accepted", async () => {
  await withWalletLedger(async (w, chain, mempool) => {
    const second = w.parseAddress(await w.newAddress());
    for (let h = 1; h <= 12; h++) await mine(chain, mempool, h % 2 ? w.pubKeyHash : second);
    const view = walletViewOf(chain, mempool), bob = await newKey();
    assert.deepEqual(w.balance(view), balance(3 * SUBSIDY, 9 * SUBSIDY, 0));
    const p = await w.createTransaction(view, encodeAddress(bob.pkh, "pcrt"), 120 * COIN);
    await assertPaymentOnChain(w, mempool, view, p, bob.pkh, 120 * COIN);
    assert.deepEqual(
      new Set(p.tx.inputs.map((i) => pubKeyHash(i.publicKey))),
      new Set([w.pubKeyHash, second]),
    );
    await mempool.accept(p.tx);
  });
});

Deno.test("insufficient funds: refused with both amounts; the whole balance less its fee is payable", async () => {
  await withWalletLedger(async (w, chain, mempool) => {
    await mine(chain, mempool, w.pubKeyHash, 12);
    const view = walletViewOf(chain, mempool), to = encodeAddress((await newKey()).pkh, "pcrt");
    for (const amount of [3 * SUBSIDY, 3 * SUBSIDY + 1, 151 * COIN, MAX_MONEY]) {
      const e = await w.createTransaction(view, to, amount).then(
        () => assert.fail("paid"),
        (e: unknown) => e,
      );
      assert.ok(e instanceof InsufficientFunds, `${amount}: ${e}`);
      assert.equal(e.available, 3 * SUBSIDY);
      assert.ok(e.needed > amount, "the fee is part of what is needed");
      assert.ok(e.message.includes(formatAmount(e.available)), e.message);
      assert.ok(e.message.includes(formatAmount(e.needed)), e.message);
      assert.ok(e.message.includes(formatAmount(9 * SUBSIDY)), `mentions the maturing coins: ${e.message}`);
    }
    // Three inputs and no change: 434 bytes. The coin of height 3 is exactly mature for the next block.
    const fee = DEFAULT_FEE_RATE * (4 + 1 + 3 * 132 + 1 + 28 + 4);
    const p = await w.createTransaction(view, to, 3 * SUBSIDY - fee);
    assert.equal(p.fee, fee);
    assert.equal(p.tx.outputs.length, 1);
    await mempool.accept(p.tx);
    assert.deepEqual(w.balance(walletViewOf(chain, mempool)), balance(0, 9 * SUBSIDY, 0));
  });
});

Deno.test("immature coinbases are never spent, even when they alone could pay", async () => {
  await withWalletLedger(async (w, chain, mempool) => {
    const to = encodeAddress((await newKey()).pkh, "pcrt");
    await mine(chain, mempool, w.pubKeyHash, params.coinbaseMaturity - 1);
    const e = await w.createTransaction(walletViewOf(chain, mempool), to, COIN).catch((e) => e);
    assert.ok(e instanceof InsufficientFunds, String(e));
    assert.equal(e.available, 0);
    assert.match(e.message, /maturing/);

    await mine(chain, mempool, w.pubKeyHash); // now the coinbase of height 1 is mature for the next block
    const view = walletViewOf(chain, mempool);
    const p = await w.createTransaction(view, to, 10 * COIN);
    assert.deepEqual(p.tx.inputs.map((i) => mempool.getCoin(i.prevout)!.height), [1]);
    await mempool.accept(p.tx);
    const change = p.tx.outputs[1].amount;
    // Only the pending change may pay now; the nine maturing coinbases must not be touched.
    const e2 = await w.createTransaction(walletViewOf(chain, mempool), to, 45 * COIN).catch((e) => e);
    assert.ok(e2 instanceof InsufficientFunds, String(e2));
    assert.equal(e2.available, change);
    const p2 = await w.createTransaction(walletViewOf(chain, mempool), to, change - 10_000);
    assert.deepEqual(p2.tx.inputs.map((i) => i.prevout), [{ txid: txid(p.tx), index: 1 }]);
    await mempool.accept(p2.tx);
  });
});

Deno.test("bad amounts and fee rates are WalletErrors, bad addresses AddressErrors, even with funds", async () => {
  await withWalletLedger(async (w, chain, mempool) => {
    await mine(chain, mempool, w.pubKeyHash, 12);
    const view = walletViewOf(chain, mempool), to = encodeAddress((await newKey()).pkh, "pcrt");
    const bad = [
      0,
      -0,
      -1,
      -COIN,
      0.5,
      COIN + 0.1,
      NaN,
      Infinity,
      -Infinity,
      MAX_MONEY + 1,
      2 ** 53,
      2 ** 60,
    ];
    for (const amount of [...bad, "5" as unknown as number, 5n as unknown as number]) {
      const e = await w.createTransaction(view, to, amount).catch((e) => e);
      assert.ok(e instanceof WalletError && !(e instanceof InsufficientFunds), `${String(amount)}: ${e}`);
    }
    for (const feeRate of [-1, NaN, Infinity]) {
      const e = await w.createTransaction(view, to, COIN, { feeRate }).catch((e) => e);
      assert.ok(e instanceof WalletError && !(e instanceof InsufficientFunds), `fee rate ${feeRate}: ${e}`);
    }
    const mainAddress = encodeAddress("11".repeat(20), NETWORKS.main.addressPrefix);
    await assert.rejects(w.createTransaction(view, mainAddress, COIN), {
      name: "AddressError",
      message: "this is a main-network address, this node is on regtest",
    });
    for (const address of [mainAddress, to.slice(0, -1), to.slice(0, -1) + (to.endsWith("q") ? "p" : "q")]) {
      const e = await w.createTransaction(view, address, COIN).catch((e) => e);
      assert.ok(e instanceof AddressError, `${address}: ${e}`);
    }
    assert.equal(mempool.size, 0);
    // A higher fee rate is honoured exactly.
    const p = await w.createTransaction(view, to, COIN, { feeRate: 25 });
    assert.equal(p.fee, 25 * txSize(p.tx));
    await mempool.accept(p.tx);
  });
});

Deno.test("change: a remainder too small to pay for its output goes to the fee, one unit more makes change", async () => {
  await withWalletLedger(async (w, chain, mempool) => {
    await mine(chain, mempool, w.pubKeyHash, 12);
    const view = walletViewOf(chain, mempool), bob = await newKey(), to = encodeAddress(bob.pkh, "pcrt");
    const oneOut = DEFAULT_FEE_RATE * (4 + 1 + 132 + 1 + 28 + 4), twoOut = oneOut + DEFAULT_FEE_RATE * 28;
    const cases: [number, number[], number][] = [ // amount, output amounts after the payment, fee
      [SUBSIDY - oneOut, [], oneOut],
      [SUBSIDY - twoOut, [], twoOut], // a change output would hold nothing: no change output
      [SUBSIDY - twoOut - 1, [1], twoOut],
    ];
    for (const [amount, change, fee] of cases) {
      const p = await w.createTransaction(view, to, amount);
      assert.equal(p.tx.inputs.length, 1, `${amount}`);
      assert.deepEqual(p.tx.outputs.slice(1).map((o) => o.amount), change, `${amount}`);
      assert.equal(p.fee, fee, `${amount}`);
      await assertPaymentOnChain(w, mempool, view, p, bob.pkh, amount);
    }
    // One unit more than a single coin can pay with its fee takes a second coin.
    const p = await w.createTransaction(view, to, SUBSIDY - oneOut + 1);
    assert.equal(p.tx.inputs.length, 2);
    await assertPaymentOnChain(w, mempool, view, p, bob.pkh, SUBSIDY - oneOut + 1);
    await mempool.accept(p.tx);
  });
});
