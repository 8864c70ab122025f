/**
 * Restoring from seed words (in one process; tests/wallet_cli_test.ts does it with real nodes): a wallet
 * restored from the words of another, after a rescan of the chain, has the same addresses (receiving and
 * change, also one paid far past unused ones, within the pool), the same balance and history, and can spend.
 * And the history itself: received, sent, fee and confirmations, the mempool's included, undone by a reorg.
 */
import assert from "node:assert/strict";
import type { Chain } from "../lib/chain/chain.ts";
import type { Mempool } from "../lib/chain/mempool.ts";
import { COIN } from "../lib/consensus/amount.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { encodeAddress } from "../lib/crypto/address.ts";
import { KEY_POOL } from "../lib/wallet/keyring.ts";
import { Wallet, WalletError, walletViewOf } from "../lib/wallet/wallet.ts";
import { mine, newKey, newLedger } from "./support/ledger.ts";
import { namesIn, withTempDir } from "./support/temp_dir.ts";

const regtest = NETWORKS.regtest;
/** A BIP-39 vector's words (tests/testdata/wallet); its first two swapped break the checksum. */
const HAMSTER =
  ("hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy " +
    "gospel tennis maple dilemma loan word shrug inflict delay length").split(" ");

const total = (w: Wallet, chain: Chain, mempool: Mempool) => {
  const b = w.balance(walletViewOf(chain, mempool));
  return b.confirmed + b.immature + b.pending;
};

/**
 * A chain where `w` mined, paid another wallet 3 coins, then itself at fresh addresses: 2 coins at the next
 * one, 1 coin after `KEY_POOL - 10` addresses handed out and never paid, and 1.5 coins as many again
 * further (past the pool a restore starts with: found only because the 1-coin address moved the pool on);
 * change each time, each payment in a block of its own.
 */
async function liveHistory(w: Wallet) {
  const { chain, mempool } = newLedger();
  const other = await newKey();
  await mine(chain, mempool, w.pubKeyHash, regtest.coinbaseMaturity + 2);
  await w.scanChain(chain);
  const fees: number[] = [];
  const pay = async (to: string, amount: number) => {
    const { tx, fee } = await w.createTransaction(walletViewOf(chain, mempool), to, amount);
    await mempool.accept(tx);
    w.sawTransaction(tx);
    fees.push(fee);
    await mine(chain, mempool, other.pkh, 1);
    await w.scanChain(chain, chain.height);
  };
  const skip = async () => {
    for (let i = 0; i < KEY_POOL - 10; i++) await w.newAddress(); // handed out, never paid
  };
  await pay(encodeAddress(other.pkh, regtest.addressPrefix), 3 * COIN);
  const a1 = await w.newAddress();
  await pay(a1, 2 * COIN);
  await skip();
  const a2 = await w.newAddress();
  await pay(a2, 1 * COIN);
  await skip();
  const far = await w.newAddress();
  await pay(far, 1.5 * COIN);
  await w.flush();
  return { chain, mempool, other, addresses: [a1, a2, far], fees };
}

Deno.test("a wallet restored from the words finds the same addresses, balance and history, and can spend", async () => {
  await withTempDir(async (dir) => {
    const original = await Wallet.open(`${dir}/a.json`, regtest);
    const { chain, mempool, addresses, fees } = await liveHistory(original);
    const [a1, a2, far] = addresses;
    const words = original.backup().words;

    const restored = await Wallet.restore(`${dir}/b.json`, regtest, words);
    assert.ok(total(restored, chain, mempool) < total(original, chain, mempool), "before the rescan, less");
    const found = await restored.scanChain(chain);
    assert.equal(
      found,
      regtest.coinbaseMaturity + 2 + 4,
      "every coinbase and the four payments",
    );
    assert.equal(restored.address, original.address);
    assert.equal(total(restored, chain, mempool), total(original, chain, mempool));
    assert.ok(total(restored, chain, mempool) > 0);
    assert.ok(restored.addresses().includes(a1));
    assert.ok(restored.addresses().includes(a2), "an address paid past unused ones is found");
    assert.ok(restored.addresses().includes(far), "and one past the pool the restore started with");
    assert.deepEqual(restored.changeAddresses(), original.changeAddresses());
    assert.equal(restored.changeAddresses().length, 4);
    assert.deepEqual(restored.history(chain), original.history(chain));
    // The restored file keeps what the rescan found: reopened, it hands out the next address of the original.
    const reopened = await Wallet.open(`${dir}/b.json`, regtest);
    assert.equal(await reopened.newAddress(), await original.newAddress());

    // And it spends.
    const { tx } = await restored.createTransaction(walletViewOf(chain, mempool), original.address, 5 * COIN);
    await mempool.accept(tx);
    assert.equal(fees.length, 4);
  }, "peerchain-restore-");
});

Deno.test("history: received, sent, fee and confirmations, the mempool's first; a reorg takes a block's back", async () => {
  const w = await Wallet.createInMemory(regtest);
  const { chain, mempool, other, fees } = await liveHistory(w);
  const h = w.history(chain);
  const payments = h.filter((e) => !e.coinbase);
  assert.equal(payments.length, 4);
  // Newest first: three payments to itself (nothing sent to others), then 3 coins to `other`.
  assert.deepEqual(payments.map((e) => [e.sent, e.received, e.fee, e.confirmations]), [
    [0, 0, fees[3], 1],
    [0, 0, fees[2], 2],
    [0, 0, fees[1], 3],
    [3 * COIN, 0, fees[0], 4],
  ]);
  const coinbases = h.filter((e) => e.coinbase);
  assert.equal(coinbases.length, regtest.coinbaseMaturity + 2);
  assert.ok(coinbases.every((e) => e.received === 50 * COIN && e.sent === 0 && e.fee === 0));
  assert.equal(coinbases.at(-1)!.confirmations, chain.height);

  // A payment to the wallet waiting in the mempool shows first, unconfirmed, as received.
  const { spend, coinbaseOut } = await import("./support/ledger.ts");
  await mine(chain, mempool, other.pkh, regtest.coinbaseMaturity);
  const otherBlock = chain.getBlock(chain.entryAt(chain.height - regtest.coinbaseMaturity + 1)!.hash)!;
  const toUs = await spend(other, [coinbaseOut(otherBlock)], [{
    amount: 7 * COIN,
    pubKeyHash: w.pubKeyHash,
  }]);
  await mempool.accept(toUs);
  const withPending = w.history(chain, mempool.entries().map((e) => e.tx));
  assert.deepEqual(
    [withPending[0].received, withPending[0].sent, withPending[0].confirmations, withPending[0].height],
    [7 * COIN, 0, 0, null],
  );
  // A reorg that disconnects the payments' block takes them out of the confirmed history.
  w.disconnectFrom(payments[1].height!);
  assert.deepEqual(w.history(chain).filter((e) => !e.coinbase).map((e) => e.txid), [
    payments[2].txid,
    payments[3].txid,
  ]);
});

Deno.test("restore refuses bad words with one line and never overwrites a wallet", async () => {
  await withTempDir(async (dir) => {
    const w = await Wallet.open(`${dir}/wallet.json`, regtest);
    const before = await Deno.readFile(`${dir}/wallet.json`);
    const words = w.backup().words.split(" ");
    const refused = async (path: string, text: string, message: RegExp) => {
      await assert.rejects(Wallet.restore(path, regtest, text), (e: unknown) => {
        assert.ok(e instanceof WalletError);
        assert.match(e.message, message);
        assert.ok(!e.message.includes("\n"));
        return true;
      });
    };
    await refused(`${dir}/new.json`, words.slice(0, 20).join(" "), /20 words, not 24/);
    await refused(`${dir}/new.json`, [...words.slice(0, 23), "bitcoins"].join(" "), /word 24, "bitcoins"/);
    await refused(`${dir}/new.json`, [HAMSTER[1], HAMSTER[0], ...HAMSTER.slice(2)].join(" "), /checksum/);
    await refused(`${dir}/wallet.json`, words.join(" "), /already exists: restore into a new data directory/);
    assert.deepEqual(await Deno.readFile(`${dir}/wallet.json`), before);
    assert.deepEqual(await namesIn(dir), ["wallet.json"]);
  }, "peerchain-restore-");
});
