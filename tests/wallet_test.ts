/**
 * The wallet: its file (created 0600, reopened to the same keys, refused when foreign or damaged), balances,
 * coin selection and signing over a fake `WalletView`, and payments a real chain and mempool accept.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { OwnedCoin } from "../lib/chain/coins.ts";
import { isMature } from "../lib/chain/tx_rules.ts";
import { COIN, MAX_MONEY } from "../lib/consensus/amount.ts";
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
} from "../lib/wallet/wallet.ts";
import { parseWalletFile } from "../lib/wallet/wallet_file.ts";
import { mine, newLedger } from "./support/ledger.ts";

const regtest = NETWORKS.regtest;
const UNIX = Deno.build.os !== "windows";

/** Runs `f` with a fresh temporary directory, removed afterwards. */
async function inTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "peerchain_wallet_" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

/** Asserts opening `path` is refused with a `WalletError` matching `message`, leaving the file as it was. */
async function assertRefused(path: string, network: keyof typeof NETWORKS, message: RegExp): Promise<void> {
  const before = await Deno.readFile(path);
  await assert.rejects(Wallet.open(path, NETWORKS[network]), (e: unknown) => {
    assert.ok(e instanceof WalletError, `expected a WalletError, got ${e}`);
    assert.ok(e.message.includes(path), `the message names the file: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
  assert.deepEqual(await Deno.readFile(path), before, "a refused wallet file is never rewritten");
}

Deno.test("a new wallet file is created with mode 0600 and reopens to the same keys", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, regtest);
    if (UNIX) assert.equal(await modeOf(path), 0o600);
    assert.match(w.address, /^pcrt1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}$/);
    assert.equal(decodeAddress(w.address, "pcrt"), w.pubKeyHash);
    assert.deepEqual([...w.pubKeyHashes], [w.pubKeyHash]);

    const file = JSON.parse(await Deno.readTextFile(path));
    assert.equal(file.version, 1);
    assert.equal(file.network, "regtest");
    assert.equal(file.keys.length, 1);
    assert.match(file.keys[0].pkcs8, /^[0-9a-f]+$/);
    assert.match(file.keys[0].publicKey, /^[0-9a-f]{64}$/);
    assert.ok(!Number.isNaN(Date.parse(file.keys[0].created)));

    const again = await Wallet.open(path, regtest);
    assert.equal(again.address, w.address);
    assert.deepEqual([...again.pubKeyHashes], [...w.pubKeyHashes]);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["wallet.json"],
      "no temporary file left",
    );
  });
});

Deno.test("newAddress saves each key before handing out its address, even when called at once", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, regtest);
    const first = w.address;
    const added = await Promise.all([w.newAddress(), w.newAddress(), w.newAddress()]);
    assert.equal(new Set(added).size, 3);
    assert.equal(w.address, first, "the first key stays the wallet's address");
    assert.equal(w.pubKeyHashes.size, 4);
    if (UNIX) assert.equal(await modeOf(path), 0o600);
    const again = await Wallet.open(path, regtest);
    assert.deepEqual(again.addresses(), [first, ...added]);
    assert.deepEqual([...again.pubKeyHashes], [...w.pubKeyHashes]);
  });
});

Deno.test({
  name: "opening a wallet file others can read restricts it to its owner",
  ignore: !UNIX,
  fn: () =>
    inTempDir(async (dir) => {
      const path = `${dir}/wallet.json`;
      await Wallet.open(path, regtest);
      await Deno.chmod(path, 0o644);
      await Wallet.open(path, regtest);
      assert.equal(await modeOf(path), 0o600);
    }),
});

Deno.test("another network's wallet is refused and left untouched", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    await Wallet.open(path, regtest);
    await assertRefused(path, "main", /belongs to the regtest network, but this node runs main/);
  });
});

Deno.test("a corrupt wallet file is refused with its path and never overwritten", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    await Wallet.open(path, regtest);
    await Wallet.open(`${dir}/other.json`, regtest);
    const good = JSON.parse(await Deno.readTextFile(path));
    const other = JSON.parse(await Deno.readTextFile(`${dir}/other.json`));
    const cases: [string, RegExp][] = [
      ["", /corrupt \(not valid JSON\)/],
      ['{"version": 1, "network": "regt', /corrupt \(not valid JSON\)/],
      ["null", /corrupt \(not a wallet object\)/],
      ["[]", /corrupt \(not a wallet object\)/],
      [JSON.stringify({ ...good, version: 2 }), /format version 2, newer than this program/],
      [JSON.stringify({ ...good, version: "1" }), /corrupt \(format version "1"\)/],
      [JSON.stringify({ ...good, network: 7 }), /corrupt \(no network name\)/],
      [JSON.stringify({ ...good, keys: [] }), /corrupt \(no keys\)/],
      [JSON.stringify({ ...good, keys: [{ ...good.keys[0], pkcs8: "xyz" }] }), /key 0 is malformed/],
      [JSON.stringify({ ...good, keys: [good.keys[0], { publicKey: "00" }] }), /key 1 is malformed/],
      [JSON.stringify({ ...good, keys: [{ ...good.keys[0], pkcs8: "00ff" }] }), /damaged key 0/],
      [
        JSON.stringify({ ...good, keys: [{ ...good.keys[0], publicKey: other.keys[0].publicKey }] }),
        /damaged key 0 \(its public key does not match its private key\)/,
      ],
    ];
    for (const [text, message] of cases) {
      await Deno.writeTextFile(path, text);
      await assertRefused(path, "regtest", message);
    }
  });
});

Deno.test("a wallet that cannot be written is a WalletError naming the path", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/missing/wallet.json`;
    await assert.rejects(Wallet.open(path, regtest), (e: unknown) => {
      assert.ok(e instanceof WalletError);
      assert.match(e.message, /^cannot write the wallet file .*missing\/wallet\.json/);
      return true;
    });
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("parseWalletFile returns exactly the stored keys", () => {
  const key = { pkcs8: "ab".repeat(48), publicKey: "cd".repeat(32), created: "2026-01-01T00:00:00.000Z" };
  const text = JSON.stringify({ version: 1, network: "main", keys: [{ ...key, extra: 1 }] });
  assert.deepEqual(parseWalletFile(text, "w.json", "main"), [key]);
  assert.throws(() => parseWalletFile(text, "w.json", "regtest"), WalletError);
});

Deno.test("an in-memory wallet writes nothing and still makes keys", async () => {
  const w = await Wallet.createInMemory(regtest);
  assert.equal(w.path, null);
  const a = await w.newAddress();
  assert.deepEqual(w.addresses(), [w.address, a]);
  assert.notEqual(a, w.address);
});

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
  if (tx.outputs[1]) assert.equal(tx.outputs[1].pubKeyHash, w.pubKeyHash, "change goes to the wallet");
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

Deno.test("createTransaction: inputs of several keys are each signed by their own key", async () => {
  const w = await Wallet.createInMemory(regtest);
  const keys = [
    w.pubKeyHash,
    ...await Promise.all([1, 2].map(async () => decodeAddress(await w.newAddress(), "pcrt"))),
  ];
  const v = new FakeView();
  for (const [i, pkh] of keys.entries()) v.add(pkh, (i + 1) * COIN);
  const r = await w.createTransaction(v, OTHER, 5 * COIN);
  const spent = await assertPayment(w, v, r, 5 * COIN);
  assert.deepEqual(new Set(spent.map((c) => c.coin.pubKeyHash)), new Set(keys));
  assert.notDeepEqual(r.tx.inputs[0].signature, r.tx.inputs[1].signature);
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

Deno.test("createTransaction: a remainder too small for a change output goes to the fee", async () => {
  const w = await Wallet.createInMemory(regtest);
  const oneOutputFee = 170 * DEFAULT_FEE_RATE;
  for (const extra of [0, 1, OUTPUT_SIZE * DEFAULT_FEE_RATE]) {
    const v = new FakeView();
    v.add(w.pubKeyHash, COIN + oneOutputFee + extra);
    const r = await w.createTransaction(v, OTHER, COIN);
    await assertPayment(w, v, r, COIN);
    assert.equal(r.tx.outputs.length, 1, `extra ${extra}`);
    assert.equal(r.fee, oneOutputFee + extra);
  }
  const v = new FakeView();
  v.add(w.pubKeyHash, COIN + oneOutputFee + OUTPUT_SIZE * DEFAULT_FEE_RATE + 1);
  const r = await w.createTransaction(v, OTHER, COIN);
  assert.deepEqual(r.tx.outputs[1], { amount: 1, pubKeyHash: w.pubKeyHash });
  await assert.rejects(w.createTransaction(v, OTHER, COIN * 2), InsufficientFunds);
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

Deno.test("createTransaction refuses bad amounts, fee rates and addresses before anything else", async () => {
  const w = await Wallet.createInMemory(regtest);
  const v = new FakeView();
  v.add(w.pubKeyHash, 10 * COIN);
  for (const amount of [0, -1, 1.5, NaN, Infinity, MAX_MONEY + 1]) {
    await assert.rejects(w.createTransaction(v, OTHER, amount), (e: unknown) => {
      assert.ok(e instanceof WalletError && !(e instanceof InsufficientFunds), `${amount}: ${e}`);
      return true;
    });
  }
  for (const feeRate of [-1, NaN, Infinity]) {
    await assert.rejects(w.createTransaction(v, OTHER, COIN, { feeRate }), WalletError);
  }
  await assert.rejects(w.createTransaction(v, encodeAddress(OTHER_PKH, "pc"), COIN), {
    name: "AddressError",
    message: "this is a main-network address, this node is on regtest",
  });
  const typo = OTHER.slice(0, -1) + (OTHER.endsWith("q") ? "p" : "q");
  await assert.rejects(w.createTransaction(v, typo, COIN), AddressError);
  await assert.rejects(w.createTransaction(v, OTHER, 10 * COIN), InsufficientFunds);
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

Deno.test("payments the wallet builds are accepted by a real mempool and confirmed by a block", async () => {
  const { chain, mempool, store } = newLedger();
  try {
    const w = await Wallet.createInMemory(regtest);
    const bob = await Wallet.createInMemory(regtest);
    const viewOf = (pkhs: ReadonlySet<string>): WalletView => ({
      height: chain.height,
      coinbaseMaturity: regtest.coinbaseMaturity,
      coinsOf: () => chain.coinsOf(pkhs),
      mempoolCoinsOf: () => mempool.coinsOf(pkhs),
      isSpentInMempool: (o) => mempool.isSpent(o),
    });
    const view = () => viewOf(w.pubKeyHashes);
    const subsidy = regtest.initialSubsidy;
    await mine(chain, mempool, w.pubKeyHash, regtest.coinbaseMaturity + 1);
    // Heights 1 and 2 are spendable in block 12; height 2 only just (12 - 2 = maturity).
    assert.deepEqual(w.balance(view()), { confirmed: 2 * subsidy, immature: 9 * subsidy, pending: 0 });

    const first = await w.createTransaction(view(), bob.address, 90 * COIN);
    assert.equal(first.tx.inputs.length, 2);
    await mempool.accept(first.tx);
    const change = 2 * subsidy - 90 * COIN - first.fee;
    assert.deepEqual(w.balance(view()), { confirmed: 0, immature: 9 * subsidy, pending: change });

    // The second payment can only be paid from the first one's unconfirmed change.
    const second = await w.createTransaction(view(), bob.address, 5 * COIN);
    await mempool.accept(second.tx);
    await assert.rejects(w.createTransaction(view(), bob.address, 20 * COIN), /still maturing/);

    await mine(chain, mempool, w.pubKeyHash);
    assert.equal(mempool.size, 0);
    assert.deepEqual(bob.balance(viewOf(bob.pubKeyHashes)), {
      confirmed: 95 * COIN,
      immature: 0,
      pending: 0,
    });
    const b = w.balance(view());
    assert.equal(b.pending, 0);
    // Block 12's coinbase collected both fees, so only what bob received left the wallet.
    assert.equal(b.confirmed + b.immature, 12 * subsidy - 95 * COIN);
    assert.equal(b.confirmed, subsidy + change - 5 * COIN - second.fee);
  } finally {
    store.close();
  }
});
