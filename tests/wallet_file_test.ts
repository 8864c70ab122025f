/**
 * `wallet.json` (lib/wallet/wallet_file.ts, through `Wallet.open`): created 0600, reopened to the same keys
 * without being rewritten, tightened when readable by others, every key saved before its address is handed
 * out, and refused (naming the file, left byte for byte) when corrupt, damaged or another network's.
 */
import assert from "node:assert/strict";
import { NETWORKS } from "../lib/consensus/params.ts";
import { decodeAddress, pubKeyHash } from "../lib/crypto/address.ts";
import { Wallet, WalletError } from "../lib/wallet/wallet.ts";
import { parseWalletFile } from "../lib/wallet/wallet_file.ts";
import { withTempDir } from "./support/temp_dir.ts";

const regtest = NETWORKS.regtest;
const UNIX = Deno.build.os !== "windows";

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

Deno.test("wallet.json is created 0600 and reopens to the same address and keys, unchanged", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, regtest);
    if (UNIX) assert.equal(await modeOf(path), 0o600);
    assert.deepEqual(await namesIn(dir), ["wallet.json"], "no temporary file left behind");
    assert.equal(w.path, path);
    assert.match(w.address, /^pcrt1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}$/);
    assert.equal(decodeAddress(w.address, "pcrt"), w.pubKeyHash);
    assert.equal(w.parseAddress(w.address), w.pubKeyHash);
    assert.deepEqual([...w.pubKeyHashes], [w.pubKeyHash]);

    const file = JSON.parse(await Deno.readTextFile(path));
    assert.equal(file.version, 1);
    assert.equal(file.network, "regtest");
    assert.equal(file.keys.length, 1);
    assert.match(file.keys[0].pkcs8, /^[0-9a-f]+$/);
    assert.match(file.keys[0].publicKey, /^[0-9a-f]{64}$/);
    assert.equal(pubKeyHash(Uint8Array.fromHex(file.keys[0].publicKey)), w.pubKeyHash);
    assert.ok(!Number.isNaN(Date.parse(file.keys[0].created)));

    const bytes = await Deno.readFile(path);
    const again = await Wallet.open(path, regtest);
    assert.equal(again.address, w.address);
    assert.equal(again.pubKeyHash, w.pubKeyHash);
    assert.deepEqual([...again.pubKeyHashes], [...w.pubKeyHashes]);
    assert.deepEqual(again.addresses(), w.addresses());
    assert.deepEqual(await Deno.readFile(path), bytes, "opening does not rewrite the file");

    if (UNIX) {
      await Deno.chmod(path, 0o644); // as if copied in by hand
      await Wallet.open(path, regtest);
      assert.equal(await modeOf(path), 0o600, "a readable wallet file is tightened on open");
    }
  }, "peerchain-wallet-");
});

Deno.test("newAddress saves each key before handing out its address, also when called at once", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/wallet.json`;
    const w = await Wallet.open(path, regtest);
    const a1 = await w.newAddress();
    const [a2, a3] = await Promise.all([w.newAddress(), w.newAddress()]);
    assert.equal(new Set([w.address, a1, a2, a3]).size, 4);
    assert.deepEqual(w.addresses(), [w.address, a1, a2, a3]);
    assert.equal(w.pubKeyHashes.size, 4);
    const again = await Wallet.open(path, regtest);
    assert.deepEqual(again.addresses(), [w.address, a1, a2, a3], "every key is on disk, in order");
    assert.deepEqual([...again.pubKeyHashes], [...w.pubKeyHashes]);
    assert.equal(again.address, w.address, "the first key stays the receiving one");
    if (UNIX) assert.equal(await modeOf(path), 0o600);
    assert.deepEqual(await namesIn(dir), ["wallet.json"]);
  }, "peerchain-wallet-");
});

Deno.test("a corrupt wallet file is refused with a WalletError naming it, and never overwritten", async () => {
  await withTempDir(async (dir) => {
    const good = await Deno.readTextFile((await Wallet.open(`${dir}/good.json`, regtest)).path!);
    const file = JSON.parse(good);
    const other = JSON.parse(
      await Deno.readTextFile((await Wallet.open(`${dir}/other.json`, regtest)).path!),
    );
    const cases: [string, string, RegExp?][] = [
      ["empty", "", /corrupt \(not valid JSON\)/],
      ["truncated", good.slice(0, Math.floor(good.length / 2)), /corrupt \(not valid JSON\)/],
      ["cut", '{"version": 1, "network": "regt', /corrupt \(not valid JSON\)/],
      ["garbage", "\u0000\u0001not a wallet"],
      ["null", "null", /corrupt \(not a wallet object\)/],
      ["array", "[]", /corrupt \(not a wallet object\)/],
      ["newer", JSON.stringify({ ...file, version: 2 }), /format version 2, newer than this program/],
      ["versionText", JSON.stringify({ ...file, version: "1" }), /corrupt \(format version "1"\)/],
      ["noVersion", JSON.stringify({ network: "regtest", keys: file.keys })],
      ["networkNumber", JSON.stringify({ ...file, network: 7 }), /corrupt \(no network name\)/],
      ["noKeys", JSON.stringify({ ...file, keys: [] }), /corrupt \(no keys\)/],
      [
        "badHex",
        JSON.stringify({ ...file, keys: [{ ...file.keys[0], pkcs8: "xyz" }] }),
        /key 0 is malformed/,
      ],
      [
        "keyOne",
        JSON.stringify({ ...file, keys: [file.keys[0], { publicKey: "00" }] }),
        /key 1 is malformed/,
      ],
      ["shortPublicKey", JSON.stringify({ ...file, keys: [{ ...file.keys[0], publicKey: "ab" }] })],
      ["notAKey", JSON.stringify({ ...file, keys: [{ ...file.keys[0], pkcs8: "00".repeat(48) }] })],
      ["damaged", JSON.stringify({ ...file, keys: [{ ...file.keys[0], pkcs8: "00ff" }] }), /damaged key 0/],
      [
        "swapped",
        JSON.stringify({ ...file, keys: [{ ...file.keys[0], publicKey: other.keys[0].publicKey }] }),
        /damaged key 0 \(its public key does not match its private key\)/,
      ],
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

Deno.test("a key whose public key does not match its private key is refused", async () => {
  await withTempDir(async (dir) => {
    const a = await Wallet.open(`${dir}/a.json`, regtest);
    await a.newAddress();
    const b = JSON.parse(await Deno.readTextFile((await Wallet.open(`${dir}/b.json`, regtest)).path!));
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
    assert.equal((await Wallet.open(`${dir}/upper.json`, regtest)).address, a.address);
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
