/**
 * Seed words and key derivation (lib/wallet/seed.ts) against the public vectors stored in
 * tests/testdata/wallet: BIP-39's reference vectors (entropy -> words -> seed, passphrase "TREZOR") and
 * SLIP-0010's Ed25519 vectors (seed -> path -> chain code, private and public key); and the one-line refusals
 * of truncated words, a word not in the list and a bad checksum.
 */
import assert from "node:assert/strict";
import { toHex } from "../lib/crypto/hex.ts";
import { fromHex } from "../lib/crypto/hex.ts";
import { WalletError } from "../lib/wallet/errors.ts";
import {
  accountKey,
  derivePath,
  generateMnemonic,
  HARDENED,
  keyPairOf,
  keyPath,
  loadLibs,
  MNEMONIC_WORDS,
  mnemonicOf,
  mnemonicToSeedBytes,
  normalizeMnemonic,
  walletKey,
  type WalletLibs,
} from "../lib/wallet/seed.ts";

const DATA = new URL("./testdata/wallet/", import.meta.url);

/** The tab-separated rows of a vector file, after its `# source:` line. */
async function rows(name: string): Promise<string[][]> {
  const lines = (await Deno.readTextFile(new URL(name, DATA))).split("\n").filter((l) => l !== "");
  assert.match(lines[0], /^# source: /, `${name} names its source`);
  return lines.slice(1).map((l) => l.split("\t"));
}

Deno.test("BIP-39 reference vectors: entropy -> words -> seed", async () => {
  const vectors = await rows("bip39_english.txt");
  assert.ok(vectors.length >= 12);
  for (const [entropy, words, seed] of vectors) {
    assert.equal(await mnemonicOf(fromHex(entropy)), words, `words of ${entropy}`);
    assert.equal(toHex(await mnemonicToSeedBytes(words, "TREZOR")), seed, `seed of ${entropy}`);
    if (words.split(" ").length === MNEMONIC_WORDS) assert.equal(await normalizeMnemonic(words), words);
  }
});

Deno.test("SLIP-0010 Ed25519 vectors: chain code, private and public key at every path", async () => {
  const vectors = await rows("slip10_ed25519.txt");
  assert.ok(vectors.length >= 12);
  for (const [seed, path, chainCode, key, publicKey] of vectors) {
    const indexes = path.split("/").slice(1).map((p) => {
      assert.match(p, /^\d+H$/, "Ed25519 paths are hardened only");
      return Number(p.slice(0, -1));
    });
    assert.ok(indexes.every((i) => i < HARDENED));
    const node = await derivePath(fromHex(seed), indexes);
    assert.equal(toHex(node.chainCode), chainCode, `chain code at ${path}`);
    assert.equal(toHex(node.key), key, `private key at ${path}`);
    assert.equal(`00${toHex((await keyPairOf(node.key)).publicKey)}`, publicKey, `public key at ${path}`);
  }
});

Deno.test("a wallet key is the SLIP-0010 key at m/44'/coin'/0'/chain'/index'", async () => {
  const seed = fromHex("000102030405060708090a0b0c0d0e0f");
  assert.equal(keyPath("regtest", 1, 7), "m/44'/1'/0'/1'/7'");
  assert.equal(keyPath("main", 0, 0), "m/44'/8765'/0'/0'/0'");
  assert.deepEqual(
    await walletKey(await accountKey(seed, "regtest"), 1, 7),
    await derivePath(seed, [44, 1, 0, 1, 7]),
  );
  assert.deepEqual(
    await walletKey(await accountKey(seed, "main"), 0, 3),
    await derivePath(seed, [44, 8765, 0, 0, 3]),
  );
  assert.notDeepEqual(
    await accountKey(seed, "main"),
    await accountKey(seed, "regtest"),
    "networks never share keys",
  );
});

Deno.test("a new mnemonic has 24 words and a valid checksum; two differ", async () => {
  const a = await generateMnemonic(), b = await generateMnemonic();
  assert.equal(a.split(" ").length, 24);
  assert.equal(await normalizeMnemonic(a), a);
  assert.notEqual(a, b);
  assert.equal(
    await normalizeMnemonic(`  ${a.toUpperCase().replaceAll(" ", "\n ")}\n`),
    a,
    "spacing and case",
  );
});

Deno.test("bad seed words are refused with one line saying what is wrong", async () => {
  const words = (await mnemonicOf(new Uint8Array(32).fill(0x7f))).split(" ");
  const refuse = (text: string, message: RegExp) =>
    assert.rejects(normalizeMnemonic(text), (e: unknown) => {
      assert.ok(e instanceof WalletError);
      assert.match(e.message, message);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
  await refuse(words.slice(0, 23).join(" "), /are 23 words, not 24/);
  await refuse([...words, "legal"].join(" "), /are 25 words, not 24/);
  await refuse(words.slice(0, 12).join(" "), /are 12 words, not 24/);
  await refuse(
    [...words.slice(0, 5), "peerchain", ...words.slice(6)].join(" "),
    /word 6, "peerchain", is not in/,
  );
  // The last word carries the checksum: another valid word there breaks it.
  await refuse([...words.slice(0, 23), "zoo"].join(" "), /checksum does not match/);
  // Two words swapped keep every word valid and break the checksum too.
  const other =
    "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis maple dilemma loan word shrug inflict delay length"
      .split(" ");
  await refuse([other[1], other[0], ...other.slice(2)].join(" "), /checksum does not match/);
});

Deno.test("lib/wallet/libs.ts provides what the wallet declares of it (WalletLibs)", async () => {
  const libs: WalletLibs = await import("../lib/wallet/libs.ts");
  assert.equal(libs.wordlist.length, 2048);
  assert.equal(await loadLibs(), await loadLibs(), "loaded once");
});
