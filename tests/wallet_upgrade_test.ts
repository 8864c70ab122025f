/**
 * The upgrade of a format-1 `wallet.json` (a list of keys) to format 2: one atomic write, every key kept as an
 * imported key beside new seed words, still watched and spendable; `backup` lists them beside the words. A
 * damaged format-1 file is refused and left as it was.
 */
import assert from "node:assert/strict";
import { COIN } from "../lib/consensus/amount.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { encodeAddress, pubKeyHash } from "../lib/crypto/address.ts";
import { exportPrivateKey, generateKeyPair, verify } from "../lib/crypto/ed25519.ts";
import { toHex } from "../lib/crypto/hex.ts";
import { sigHash } from "../lib/primitives/transaction.ts";
import { Wallet, WalletError, type WalletView } from "../lib/wallet/wallet.ts";
import { namesIn, withTempDir } from "./support/temp_dir.ts";

const regtest = NETWORKS.regtest;

async function v1Key() {
  const pair = await generateKeyPair();
  return {
    pkcs8: toHex(await exportPrivateKey(pair.privateKey)),
    publicKey: toHex(pair.publicKey),
    created: "2026-01-01T00:00:00.000Z",
  };
}

Deno.test("a format-1 wallet migrates in one write: its keys imported beside new words, watched and spendable", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const keys = [await v1Key(), await v1Key()];
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, network: "regtest", keys }));
    const w = await Wallet.open(path, regtest);
    const file = JSON.parse(await Deno.readTextFile(path));
    assert.equal(file.version, 2);
    assert.deepEqual(file.imported, keys.map((k) => k.publicKey));
    assert.deepEqual(file.secrets.imported, keys.map((k) => k.pkcs8));
    assert.deepEqual(await namesIn(dir), ["wallet.json"]);
    const pkhs = keys.map((k) => pubKeyHash(Uint8Array.fromHex(k.publicKey)));
    const addresses = pkhs.map((p) => encodeAddress(p, regtest.addressPrefix));
    for (const p of pkhs) assert.ok(w.pubKeyHashes.has(p));
    assert.deepEqual(w.addresses().slice(-2), addresses);
    assert.notEqual(w.address, addresses[0], "new coinbases go to the seed's first address");
    const backup = w.backup();
    assert.equal(backup.words.split(" ").length, 24);
    assert.deepEqual(backup.imported, keys.map((k, i) => ({ address: addresses[i], pkcs8: k.pkcs8 })));

    // Coins of both imported keys are spendable, each input signed by its own key.
    const coin = (i: number) => ({
      outpoint: { txid: String(i).repeat(64), index: 0 },
      coin: { amount: 5 * COIN, pubKeyHash: pkhs[i], height: 1, coinbase: false },
    });
    const view: WalletView = {
      height: 10,
      coinbaseMaturity: 5,
      coinsOf: (p) => [coin(0), coin(1)].filter((c) => p.has(c.coin.pubKeyHash)),
      mempoolCoinsOf: () => [],
      isSpentInMempool: () => false,
    };
    assert.equal(w.balance(view).confirmed, 10 * COIN);
    const { tx } = await w.createTransaction(view, w.address, 8 * COIN);
    assert.equal(tx.inputs.length, 2);
    for (const input of tx.inputs) assert.ok(await verify(input.publicKey, input.signature, sigHash(tx)));

    // Reopened: the same wallet, not migrated again.
    const bytes = await Deno.readFile(path);
    const again = await Wallet.open(path, regtest);
    assert.equal(again.address, w.address);
    assert.deepEqual(again.backup(), backup);
    assert.deepEqual(await Deno.readFile(path), bytes);
  }, "peerchain-upgrade-");
});

Deno.test("a damaged format-1 wallet is refused with one line and not migrated", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const [a, b] = [await v1Key(), await v1Key()];
    await Deno.writeTextFile(
      path,
      JSON.stringify({ version: 1, network: "regtest", keys: [a, { ...b, publicKey: a.publicKey }] }),
    );
    const before = await Deno.readFile(path);
    await assert.rejects(Wallet.open(path, regtest), (e: unknown) => {
      assert.ok(e instanceof WalletError);
      assert.match(e.message, /key 1 is damaged \(its public key does not match\)/);
      assert.ok(e.message.includes(path) && !e.message.includes("\n"));
      return true;
    });
    assert.deepEqual(await Deno.readFile(path), before);
  }, "peerchain-upgrade-");
});
