/**
 * The wallet end to end: its file (0600, reopened to the same keys, refused and left byte for byte when
 * damaged or foreign), then balances and payments on a real regtest chain and mempool, which must accept
 * every transaction the wallet builds.
 */
import assert from "node:assert/strict";
import type { Chain } from "../lib/chain/chain.ts";
import type { Mempool } from "../lib/chain/mempool.ts";
import { COIN, formatAmount, MAX_MONEY } from "../lib/consensus/amount.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { AddressError, encodeAddress, pubKeyHash } from "../lib/crypto/address.ts";
import { verify } from "../lib/crypto/ed25519.ts";
import { sigHash, type Transaction, txid, txSize } from "../lib/primitives/transaction.ts";
import {
  DEFAULT_FEE_RATE,
  InsufficientFunds,
  Wallet,
  WalletError,
  type WalletView,
} from "../lib/wallet/wallet.ts";
import { mine, newKey, newLedger, params } from "./support/ledger.ts";

const UNIX = Deno.build.os !== "windows";
const SUBSIDY = 50 * COIN;

async function inTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "peerchain_wallet_keys_" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const balance = (confirmed: number, immature: number, pending: number) => ({ confirmed, immature, pending });
const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
const namesIn = async (dir: string) => (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();

/** Asserts opening `path` fails with a WalletError naming it and matching `message`, bytes untouched. */
async function assertRefused(path: string, network: "main" | "regtest", message?: RegExp): Promise<void> {
  const before = await Deno.readFile(path);
  const error = await Wallet.open(path, NETWORKS[network]).then(
    (w) => assert.fail(`opened, address ${w.address}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WalletError, `expected a WalletError, got ${error}`);
  assert.ok(error.message.includes(path), `the message names the file: ${error.message}`);
  if (message) assert.match(error.message, message);
  assert.deepEqual(await Deno.readFile(path), before, "a refused wallet file is left byte for byte");
}

/** What lib/node.ts gives the wallet. */
function viewOf(chain: Chain, mempool: Mempool): WalletView {
  return {
    height: chain.height,
    coinbaseMaturity: params.coinbaseMaturity,
    coinsOf: (s) => chain.coinsOf(s),
    mempoolCoinsOf: (s) => mempool.coinsOf(s),
    isSpentInMempool: (o) => mempool.isSpent(o),
  };
}

/**
 * Checks a payment against the chain and mempool it was built from: it pays `amount` to `to`, the change (if
 * any) returns to the wallet, outputs = inputs − fee with fee = rate × size, every input is a mature coin
 * whose key hash the input's key has and whose signature verifies over sigHash. Returns the input total.
 */
async function assertPayment(
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
    assert.equal(tx.outputs[1].pubKeyHash, wallet.pubKeyHash, "change to self");
    assert.ok(tx.outputs[1].amount > 0);
    assert.equal(fee, DEFAULT_FEE_RATE * txSize(tx));
  } else {
    assert.equal(tx.outputs.length, 1);
    assert.ok(fee >= DEFAULT_FEE_RATE * txSize(tx), "a dropped change only raises the fee");
  }
  return inputs;
}

Deno.test("wallet.json is created 0600 and reopens to the same address and keys, unchanged", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, params);
    if (UNIX) assert.equal(await modeOf(path), 0o600);
    assert.deepEqual(await namesIn(dir), ["wallet.json"], "no temporary file left behind");
    assert.equal(w.path, path);
    assert.equal(w.parseAddress(w.address), w.pubKeyHash);
    const stored = JSON.parse(await Deno.readTextFile(path));
    assert.equal(stored.network, "regtest");
    assert.equal(pubKeyHash(Uint8Array.fromHex(stored.keys[0].publicKey)), w.pubKeyHash);

    const bytes = await Deno.readFile(path);
    const again = await Wallet.open(path, params);
    assert.equal(again.address, w.address);
    assert.equal(again.pubKeyHash, w.pubKeyHash);
    assert.deepEqual([...again.pubKeyHashes], [...w.pubKeyHashes]);
    assert.deepEqual(again.addresses(), w.addresses());
    assert.deepEqual(await Deno.readFile(path), bytes, "opening does not rewrite the file");

    if (UNIX) {
      await Deno.chmod(path, 0o644); // as if copied in by hand
      await Wallet.open(path, params);
      assert.equal(await modeOf(path), 0o600, "a readable wallet file is tightened on open");
    }
  });
});

Deno.test("newAddress saves before returning, also when called concurrently", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, params);
    const a1 = await w.newAddress();
    const [a2, a3] = await Promise.all([w.newAddress(), w.newAddress()]);
    assert.equal(new Set([w.address, a1, a2, a3]).size, 4);
    assert.deepEqual(w.addresses(), [w.address, a1, a2, a3]);
    assert.equal(w.pubKeyHashes.size, 4);
    const again = await Wallet.open(path, params);
    assert.deepEqual(again.addresses(), [w.address, a1, a2, a3], "every key is on disk, in order");
    assert.equal(again.address, w.address, "the first key stays the receiving one");
    if (UNIX) assert.equal(await modeOf(path), 0o600);
    assert.deepEqual(await namesIn(dir), ["wallet.json"]);
  });
});

Deno.test("a corrupt wallet file is refused with a WalletError naming it, and not overwritten", async () => {
  await inTempDir(async (dir) => {
    const good = await Deno.readTextFile((await Wallet.open(`${dir}/good.json`, params)).path!);
    const goodFile = JSON.parse(good);
    const variants: Record<string, string> = {
      empty: "",
      truncated: good.slice(0, Math.floor(good.length / 2)),
      garbage: "\u0000\u0001not a wallet",
      array: "[]",
      null: "null",
      noKeys: JSON.stringify({ ...goodFile, keys: [] }),
      noVersion: JSON.stringify({ network: "regtest", keys: goodFile.keys }),
      badHex: JSON.stringify({ ...goodFile, keys: [{ ...goodFile.keys[0], pkcs8: "zz" }] }),
      notAKey: JSON.stringify({ ...goodFile, keys: [{ ...goodFile.keys[0], pkcs8: "00".repeat(48) }] }),
      shortPublicKey: JSON.stringify({ ...goodFile, keys: [{ ...goodFile.keys[0], publicKey: "ab" }] }),
    };
    for (const [name, text] of Object.entries(variants)) {
      const path = `${dir}/${name}.json`;
      await Deno.writeTextFile(path, text);
      await assertRefused(path, "regtest");
      await assertRefused(path, "regtest"); // and again: the first refusal did not "repair" it
    }
  });
});

Deno.test("a wallet of another network is refused, naming both networks, and left as it was", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, params);
    await assertRefused(path, "main", /regtest[\s\S]*main/);
    assert.equal((await Wallet.open(path, params)).address, w.address, "still the regtest wallet");

    const mainPath = `${dir}/main.json`;
    await Wallet.open(mainPath, NETWORKS.main);
    await assertRefused(mainPath, "regtest", /main[\s\S]*regtest/);
  });
});

Deno.test("a key whose public key does not match its private key is refused", async () => {
  await inTempDir(async (dir) => {
    const a = await Wallet.open(`${dir}/a.json`, params);
    await a.newAddress();
    const b = JSON.parse(await Deno.readTextFile((await Wallet.open(`${dir}/b.json`, params)).path!));
    const file = JSON.parse(await Deno.readTextFile(a.path!));
    for (const i of [0, 1]) {
      const swapped = structuredClone(file);
      swapped.keys[i].publicKey = b.keys[0].publicKey;
      const path = `${dir}/swapped${i}.json`;
      await Deno.writeTextFile(path, JSON.stringify(swapped));
      await assertRefused(path, "regtest", new RegExp(`key ${i}\\b.*public key does not match`));
    }
    // The same key in uppercase hex is the same key.
    const upper = structuredClone(file);
    upper.keys[0].publicKey = upper.keys[0].publicKey.toUpperCase();
    await Deno.writeTextFile(`${dir}/upper.json`, JSON.stringify(upper));
    assert.equal((await Wallet.open(`${dir}/upper.json`, params)).address, a.address);
  });
});

Deno.test("balance: coinbases split into confirmed and immature exactly at the maturity depth", async () => {
  const { chain, mempool, store } = newLedger();
  try {
    const w = await Wallet.createInMemory(params);
    for (let t = 1; t <= 12; t++) {
      await mine(chain, mempool, w.pubKeyHash);
      const mature = Math.max(0, t + 1 - params.coinbaseMaturity); // heights h with t + 1 − h ≥ maturity
      const b = w.balance(viewOf(chain, mempool));
      assert.deepEqual(b, balance(mature * SUBSIDY, (t - mature) * SUBSIDY, 0), `at height ${t}`);
    }
    assert.deepEqual(w.balance(viewOf(chain, mempool)), balance(3 * SUBSIDY, 9 * SUBSIDY, 0));
    assert.ok(w.spendable(viewOf(chain, mempool)).every((c) => c.coin.height <= 3));
  } finally {
    store.close();
  }
});

Deno.test("payments from keys read back from disk are accepted; change is spendable before it confirms", async () => {
  await inTempDir(async (dir) => {
    const { chain, mempool, store } = newLedger();
    try {
      const path = `${dir}/wallet.json`;
      await mine(chain, mempool, (await Wallet.open(path, params)).pubKeyHash, 12);
      const w = await Wallet.open(path, params); // the keys now come from the file
      const bob = await newKey(), toBob = encodeAddress(bob.pkh, params.addressPrefix);

      const view1 = viewOf(chain, mempool), amount1 = 7 * COIN + 1234;
      const p1 = await w.createTransaction(view1, toBob, amount1);
      assert.equal(await assertPayment(w, mempool, view1, p1, bob.pkh, amount1), SUBSIDY, "one coin");
      assert.equal(p1.tx.outputs.length, 2);
      assert.equal((await mempool.accept(p1.tx))[0].fee, p1.fee);
      const change1 = p1.tx.outputs[1].amount;
      assert.deepEqual(w.balance(viewOf(chain, mempool)), balance(2 * SUBSIDY, 9 * SUBSIDY, change1));

      // More than the confirmed coins hold: the unconfirmed change must be spent too.
      const view2 = viewOf(chain, mempool), amount2 = 120 * COIN;
      const p2 = await w.createTransaction(view2, toBob, amount2);
      assert.equal(await assertPayment(w, mempool, view2, p2, bob.pkh, amount2), 2 * SUBSIDY + change1);
      assert.ok(p2.tx.inputs.some((i) => i.prevout.txid === txid(p1.tx)), "spends the unconfirmed change");
      assert.equal(p2.tx.inputs[p2.tx.inputs.length - 1].prevout.txid, txid(p1.tx), "confirmed coins first");
      await mempool.accept(p2.tx);
      const change2 = p2.tx.outputs[1].amount;
      assert.deepEqual(w.balance(viewOf(chain, mempool)), balance(0, 9 * SUBSIDY, change2));
      assert.equal(3 * SUBSIDY - amount1 - amount2 - p1.fee - p2.fee, change2, "nothing lost on the way");

      await mine(chain, mempool, w.pubKeyHash);
      assert.equal(mempool.size, 0, "both payments confirmed");
      // The coinbase of height 4 matured; those of heights 5..13 mature later, the last one with the fees.
      const after = balance(SUBSIDY + change2, 9 * SUBSIDY + p1.fee + p2.fee, 0);
      assert.deepEqual(w.balance(viewOf(chain, mempool)), after);
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
  const { chain, mempool, store } = newLedger();
  try {
    const w = await Wallet.createInMemory(params);
    const second = w.parseAddress(await w.newAddress());
    for (let h = 1; h <= 12; h++) await mine(chain, mempool, h % 2 ? w.pubKeyHash : second);
    const view = viewOf(chain, mempool), bob = await newKey();
    assert.deepEqual(w.balance(view), balance(3 * SUBSIDY, 9 * SUBSIDY, 0));
    const p = await w.createTransaction(view, encodeAddress(bob.pkh, "pcrt"), 120 * COIN);
    await assertPayment(w, mempool, view, p, bob.pkh, 120 * COIN);
    assert.deepEqual(
      new Set(p.tx.inputs.map((i) => pubKeyHash(i.publicKey))),
      new Set([w.pubKeyHash, second]),
    );
    await mempool.accept(p.tx);
  } finally {
    store.close();
  }
});

Deno.test("insufficient funds: refused with both amounts; the whole balance less its fee is payable", async () => {
  const { chain, mempool, store } = newLedger();
  try {
    const w = await Wallet.createInMemory(params);
    await mine(chain, mempool, w.pubKeyHash, 12);
    const view = viewOf(chain, mempool), to = encodeAddress((await newKey()).pkh, "pcrt");
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
    assert.deepEqual(w.balance(viewOf(chain, mempool)), balance(0, 9 * SUBSIDY, 0));
  } finally {
    store.close();
  }
});

Deno.test("immature coinbases are never spent, even when they alone could pay", async () => {
  const { chain, mempool, store } = newLedger();
  try {
    const w = await Wallet.createInMemory(params);
    const to = encodeAddress((await newKey()).pkh, "pcrt");
    await mine(chain, mempool, w.pubKeyHash, params.coinbaseMaturity - 1);
    const e = await w.createTransaction(viewOf(chain, mempool), to, COIN).catch((e) => e);
    assert.ok(e instanceof InsufficientFunds, String(e));
    assert.equal(e.available, 0);
    assert.match(e.message, /maturing/);

    await mine(chain, mempool, w.pubKeyHash); // now the coinbase of height 1 is mature for the next block
    const view = viewOf(chain, mempool);
    const p = await w.createTransaction(view, to, 10 * COIN);
    assert.deepEqual(p.tx.inputs.map((i) => mempool.getCoin(i.prevout)!.height), [1]);
    await mempool.accept(p.tx);
    const change = p.tx.outputs[1].amount;
    // Only the pending change may pay now; the nine maturing coinbases must not be touched.
    const e2 = await w.createTransaction(viewOf(chain, mempool), to, 45 * COIN).catch((e) => e);
    assert.ok(e2 instanceof InsufficientFunds, String(e2));
    assert.equal(e2.available, change);
    const p2 = await w.createTransaction(viewOf(chain, mempool), to, change - 10_000);
    assert.deepEqual(p2.tx.inputs.map((i) => i.prevout), [{ txid: txid(p.tx), index: 1 }]);
    await mempool.accept(p2.tx);
  } finally {
    store.close();
  }
});

Deno.test("bad amounts and fee rates are WalletErrors, bad addresses AddressErrors, even with funds", async () => {
  const { chain, mempool, store } = newLedger();
  try {
    const w = await Wallet.createInMemory(params);
    await mine(chain, mempool, w.pubKeyHash, 12);
    const view = viewOf(chain, mempool), to = encodeAddress((await newKey()).pkh, "pcrt");
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
    for (const address of [mainAddress, to.slice(0, -1), to.slice(0, -1) + (to.endsWith("q") ? "p" : "q")]) {
      const e = await w.createTransaction(view, address, COIN).catch((e) => e);
      assert.ok(e instanceof AddressError, `${address}: ${e}`);
    }
    assert.equal(mempool.size, 0);
    // A higher fee rate is honoured exactly.
    const p = await w.createTransaction(view, to, COIN, { feeRate: 25 });
    assert.equal(p.fee, 25 * txSize(p.tx));
    await mempool.accept(p.tx);
  } finally {
    store.close();
  }
});

Deno.test("change: a remainder too small to pay for its output goes to the fee, one unit more makes change", async () => {
  const { chain, mempool, store } = newLedger();
  try {
    const w = await Wallet.createInMemory(params);
    await mine(chain, mempool, w.pubKeyHash, 12);
    const view = viewOf(chain, mempool), bob = await newKey(), to = encodeAddress(bob.pkh, "pcrt");
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
      await assertPayment(w, mempool, view, p, bob.pkh, amount);
    }
    // One unit more than a single coin can pay with its fee takes a second coin.
    const p = await w.createTransaction(view, to, SUBSIDY - oneOut + 1);
    assert.equal(p.tx.inputs.length, 2);
    await assertPayment(w, mempool, view, p, bob.pkh, SUBSIDY - oneOut + 1);
    await mempool.accept(p.tx);
  } finally {
    store.close();
  }
});
