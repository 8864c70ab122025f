/**
 * `wallet.json` (lib/wallet/wallet_file.ts, through `Wallet.open`): created 0600 with 24 seed words and the
 * pools of public keys, reopened to the same keys without being rewritten, tightened when readable by others,
 * every address saved as handed out before it is returned, and refused (naming the file, left byte for byte)
 * when corrupt, damaged, newer or another network's.
 */
import assert from "node:assert/strict";
import { NETWORKS } from "../lib/consensus/params.ts";
import { decodeAddress, encodeAddress, pubKeyHash } from "../lib/crypto/address.ts";
import { toHex } from "../lib/crypto/hex.ts";
import { KEY_POOL } from "../lib/wallet/keyring.ts";
import { keyPairOf, mnemonicToSeedBytes, normalizeMnemonic, walletKey } from "../lib/wallet/seed.ts";
import { accountKey } from "../lib/wallet/seed.ts";
import { Wallet, WalletError } from "../lib/wallet/wallet.ts";
import { parseWalletFile, WALLET_FILE_VERSION } from "../lib/wallet/wallet_file.ts";
import { namesIn, withTempDir } from "./support/temp_dir.ts";

const regtest = NETWORKS.regtest;
const UNIX = Deno.build.os !== "windows";

const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

/** Asserts opening `path` fails with a WalletError naming it and matching `message`, bytes untouched. */
async function assertRefused(path: string, network: "main" | "regtest", message?: RegExp): Promise<void> {
  const before = await Deno.readFile(path);
  const error = await Wallet.open(path, NETWORKS[network]).then(
    (w) => assert.fail(`opened, address ${w.address}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WalletError, `expected a WalletError, got ${error}`);
  assert.ok(error.message.includes(path), `the message names the file: ${error.message}`);
  assert.ok(!error.message.includes("\n"), "one line");
  if (message) assert.match(error.message, message);
  assert.deepEqual(await Deno.readFile(path), before, "a refused wallet file is left byte for byte");
}

Deno.test("wallet.json is created 0600 with 24 words whose keys it holds, and reopens unchanged", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, regtest);
    if (UNIX) assert.equal(await modeOf(path), 0o600);
    assert.deepEqual(await namesIn(dir), ["wallet.json"], "no temporary file left behind");
    assert.equal(w.path, path);
    assert.match(w.address, /^pcrt1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}$/);
    assert.equal(decodeAddress(w.address, "pcrt"), w.pubKeyHash);
    assert.equal(w.parseAddress(w.address), w.pubKeyHash);
    assert.deepEqual(w.addresses(), [w.address]);
    assert.equal(w.pubKeyHashes.size, 2 * KEY_POOL + 1, "the pools of both chains are watched");

    const file = JSON.parse(await Deno.readTextFile(path));
    assert.equal(file.version, WALLET_FILE_VERSION);
    assert.equal(file.network, "regtest");
    assert.equal(await normalizeMnemonic(file.secrets.mnemonic), file.secrets.mnemonic);
    assert.equal(file.receive.used, 1);
    assert.equal(file.receive.keys.length, KEY_POOL + 1);
    assert.equal(file.change.keys.length, KEY_POOL);
    // The first receiving key is m/44'/1'/0'/0'/0' of the words.
    const account = await accountKey(await mnemonicToSeedBytes(file.secrets.mnemonic), "regtest");
    const first = toHex((await keyPairOf((await walletKey(account, 0, 0)).key)).publicKey);
    assert.equal(file.receive.keys[0], first);
    assert.equal(pubKeyHash(Uint8Array.fromHex(first)), w.pubKeyHash);
    assert.equal(w.backup().words, file.secrets.mnemonic);
    assert.deepEqual(w.backup().imported, []);

    const bytes = await Deno.readFile(path);
    const again = await Wallet.open(path, regtest);
    assert.equal(again.address, w.address);
    assert.deepEqual([...again.pubKeyHashes].sort(), [...w.pubKeyHashes].sort());
    assert.deepEqual(again.addresses(), w.addresses());
    assert.deepEqual(await Deno.readFile(path), bytes, "opening does not rewrite the file");

    if (UNIX) {
      await Deno.chmod(path, 0o644); // as if copied in by hand
      await Wallet.open(path, regtest);
      assert.equal(await modeOf(path), 0o600, "a readable wallet file is tightened on open");
    }
  }, "peerchain-wallet-");
});

Deno.test("newAddress hands out the next receiving key, saved first, also when called at once", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, regtest);
    const a1 = await w.newAddress();
    const [a2, a3] = await Promise.all([w.newAddress(), w.newAddress()]);
    assert.equal(new Set([w.address, a1, a2, a3]).size, 4);
    assert.deepEqual(w.addresses(), [w.address, a1, a2, a3]);
    const file = JSON.parse(await Deno.readTextFile(path));
    assert.equal(file.receive.used, 4);
    assert.equal(file.receive.keys.length, 4 + KEY_POOL, "the pool is topped up past the used mark");
    const account = await accountKey(await mnemonicToSeedBytes(file.secrets.mnemonic), "regtest");
    const third = pubKeyHash((await keyPairOf((await walletKey(account, 0, 3)).key)).publicKey);
    assert.equal(decodeAddress(a3, "pcrt"), third, "the 4th address is m/44'/1'/0'/0'/3'");
    const again = await Wallet.open(path, regtest);
    assert.deepEqual(again.addresses(), [w.address, a1, a2, a3], "every address is on disk, in order");
    assert.deepEqual([...again.pubKeyHashes].sort(), [...w.pubKeyHashes].sort());
    assert.equal(again.address, w.address, "the first key stays the receiving one");
    if (UNIX) assert.equal(await modeOf(path), 0o600);
    assert.deepEqual(await namesIn(dir), ["wallet.json"]);
  }, "peerchain-wallet-");
});

Deno.test("a corrupt wallet file is refused with one line naming it, and never overwritten", async () => {
  await withTempDir(async (dir) => {
    const good = await Deno.readTextFile((await Wallet.open(`${dir}/good.json`, regtest)).path!);
    const file = JSON.parse(good);
    const other = JSON.parse(
      await Deno.readTextFile((await Wallet.open(`${dir}/other.json`, regtest)).path!),
    );
    const words = file.secrets.mnemonic.split(" ");
    const withSecrets = (secrets: unknown) => JSON.stringify({ ...file, secrets });
    const cases: [string, string, RegExp?][] = [
      ["empty", "", /corrupt \(not valid JSON\)/],
      ["truncated", good.slice(0, Math.floor(good.length / 2)), /corrupt \(not valid JSON\)/],
      ["garbage", "\u0000\u0001not a wallet"],
      ["null", "null", /corrupt \(not a wallet object\)/],
      ["array", "[]", /corrupt \(not a wallet object\)/],
      ["newer", JSON.stringify({ ...file, version: 3 }), /format version 3, newer than this program reads/],
      ["versionText", JSON.stringify({ ...file, version: "2" }), /corrupt \(format version "2"\)/],
      ["networkNumber", JSON.stringify({ ...file, network: 7 }), /corrupt \(no network name\)/],
      ["noReceive", JSON.stringify({ ...file, receive: { used: 0, keys: [] } }), /no receiving key/],
      [
        "badKey",
        JSON.stringify({ ...file, change: { used: 0, keys: ["xyz"] } }),
        /change keys are malformed/,
      ],
      ["usedPast", JSON.stringify({ ...file, change: { used: 5, keys: [] } }), /change keys are malformed/],
      ["noSecrets", JSON.stringify({ ...file, secrets: null }), /no secrets/],
      [
        "truncatedWords",
        withSecrets({ mnemonic: words.slice(0, 23).join(" "), imported: [] }),
        /seed words are damaged: not 24 lower-case words/,
      ],
      [
        "unknownWord",
        withSecrets({ mnemonic: [...words.slice(0, 23), "peerchain"].join(" "), imported: [] }),
        /seed words do not give its first key/,
      ],
      [
        "badChecksum",
        // A BIP-39 vector's words with the first two swapped: every word in the list, the checksum broken.
        withSecrets({
          mnemonic: "diagram hamster private dutch cause delay private meat slide toddler razor book happy " +
            "fancy gospel tennis maple dilemma loan word shrug inflict delay length",
          imported: [],
        }),
        /seed words do not give its first key: the file is damaged/,
      ],
      [
        "otherWords",
        withSecrets(other.secrets),
        /seed words do not give its first key: the file is damaged/,
      ],
      ["badSealed", withSecrets({ sealed: { kdf: "scrypt", n: 2 ** 30 } }), /sealed secrets are malformed/],
    ];
    for (const [name, text, message] of cases) {
      const path = `${dir}/${name}.json`;
      await Deno.writeTextFile(path, text);
      await assertRefused(path, "regtest", message);
      await assertRefused(path, "regtest", message); // and again: the first refusal did not "repair" it
    }
  }, "peerchain-wallet-");
});

Deno.test("a wallet of another network is refused, naming both networks, and left as it was", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, regtest);
    await assertRefused(path, "main", /belongs to the regtest network, but this node runs main/);
    assert.equal((await Wallet.open(path, regtest)).address, w.address, "still the regtest wallet");

    const mainPath = `${dir}/main.json`;
    await Wallet.open(mainPath, NETWORKS.main);
    await assertRefused(mainPath, "regtest", /main[\s\S]*regtest/);
  }, "peerchain-wallet-");
});

Deno.test("a wallet that cannot be written is a WalletError naming the path", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/missing/wallet.json`;
    await assert.rejects(Wallet.open(path, regtest), (e: unknown) => {
      assert.ok(e instanceof WalletError);
      assert.match(e.message, /^cannot write the wallet file .*missing\/wallet\.json/);
      return true;
    });
    assert.deepEqual(await namesIn(dir), []);
  }, "peerchain-wallet-");
});

Deno.test("parseWalletFile reads format 1's keys (to migrate them) and format 2 exactly", () => {
  const key = { pkcs8: "ab".repeat(48), publicKey: "cd".repeat(32), created: "2026-01-01T00:00:00.000Z" };
  const v1 = JSON.stringify({ version: 1, network: "main", keys: [{ ...key, extra: 1 }] });
  assert.deepEqual(parseWalletFile(v1, "w.json", "main"), { version: 1, keys: [key] });
  assert.throws(() => parseWalletFile(v1, "w.json", "regtest"), WalletError);
  const v2 = {
    version: 2,
    network: "main",
    secrets: { mnemonic: "some words", imported: ["ab".repeat(48)] },
    receive: { used: 1, keys: ["AB".repeat(32)] },
    change: { used: 0, keys: [] },
    imported: ["cd".repeat(32)],
  };
  assert.deepEqual(parseWalletFile(JSON.stringify({ ...v2, extra: 1 }), "w.json", "main"), {
    version: 2,
    file: { ...v2, receive: { used: 1, keys: ["ab".repeat(32)] } },
  });
  const unpaired = { ...v2, imported: [] };
  assert.throws(() => parseWalletFile(JSON.stringify(unpaired), "w.json", "main"), /differ in number/);
});

Deno.test("an in-memory wallet writes nothing and still hands out addresses", async () => {
  const w = await Wallet.createInMemory(regtest);
  assert.equal(w.path, null);
  const a = await w.newAddress();
  assert.deepEqual(w.addresses(), [w.address, a]);
  assert.notEqual(a, w.address);
});

/** A wallet at `path` with one confirmed 50-coin coin to spend, its view of the chain, and an address to pay. */
async function oneCoinWallet(path: string) {
  const w = await Wallet.open(path, regtest);
  const coin = {
    outpoint: { txid: "ab".repeat(32), index: 0 },
    coin: { amount: 50 * 1e8, pubKeyHash: w.pubKeyHash, height: 1, coinbase: false },
  };
  const view = {
    height: 100,
    coinbaseMaturity: 10,
    coinsOf: () => [coin],
    mempoolCoinsOf: () => [],
    isSpentInMempool: () => false,
  };
  return { w, view, other: encodeAddress("cd".repeat(20), regtest.addressPrefix) };
}

Deno.test("a payment's change key is on disk before the payment exists, also once the change pool is used up", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const { w, view, other } = await oneCoinWallet(path);
    // Payments whose change marks are never saved (as if every lazy save were lost): the pool runs out.
    for (let i = 0; i <= KEY_POOL; i++) {
      const { tx } = await w.createTransaction(view, other, 1e8);
      w.sawTransaction(tx);
      const onDisk = JSON.parse(await Deno.readTextFile(path)).change.keys.map((k: string) =>
        pubKeyHash(Uint8Array.fromHex(k))
      );
      assert.ok(onDisk.includes(tx.outputs[1].pubKeyHash), `payment ${i}: its change key is in the file`);
    }
  }, "peerchain-wallet-");
});

Deno.test("saveSoon: the used marks of many payments wait and go to disk in one save; flush writes them at once", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const { w, view, other } = await oneCoinWallet(path);
    const usedOnDisk = async () => JSON.parse(await Deno.readTextFile(path)).change.used;
    const before = await usedOnDisk();
    for (let i = 0; i < 20; i++) {
      const { tx } = await w.createTransaction(view, other, 1e8);
      w.sawTransaction(tx);
      w.saveSoon();
      await w.settled();
      assert.equal(await usedOnDisk(), before, `payment ${i}: no save of its own`);
    }
    await w.flush();
    assert.equal(await usedOnDisk(), before + 20, "flush wrote every mark");
  }, "peerchain-wallet-");
});
