/**
 * The wallet's commands with real node processes on 127.0.0.1: backup, restore into a new data directory on
 * another node (same addresses, same balance, same history, can spend), fresh addresses, history, the fee
 * rate, encryption (a wrong passphrase or none is refused with one line and changes nothing; unlock --for
 * opens it for a while; a locked wallet still hands out addresses), and bad seed words refused in one line.
 */
import assert from "node:assert/strict";
import { namesIn } from "./support/temp_dir.ts";
import { assertRefusal, cli, json } from "./support/cli.ts";
import { statuses, type TestNode, withCluster } from "./support/cluster.ts";
import { sleep, waitFor } from "./support/wait.ts";
import type { WalletHistoryRow } from "../lib/rpc/wallet_methods.ts";

interface Info {
  encrypted: boolean;
  locked: boolean;
  addresses: string[];
  feeRate: number;
}
type Entry = WalletHistoryRow;

const balanceOf = async (n: TestNode) => {
  const s = await n.rpc<{ balance: number; immature: number; pending: number }>("status");
  return [s.balance, s.immature, s.pending];
};

Deno.test("restore on another node: the same addresses, balance and history, and it can spend", async () => {
  await withCluster(async (cluster) => {
    const a = await cluster.start("a");
    await a.rpc("mine", [12]);
    const fresh = (await json<{ address: string }>(a.dataDir, "address", "--new")).address;
    assert.notEqual(fresh, (await json<{ address: string }>(a.dataDir, "address")).address);
    const sent = await cli(a.dataDir, "send", fresh, "2.5", "--fee-rate", "20");
    assert.equal(sent.code, 0, sent.stderr);
    const txid = sent.stdout.match(/^sent 2\.5 coins: transaction ([0-9a-f]{64}), fee (\S+) coins$/m);
    assert.ok(txid, sent.stdout);
    await a.rpc("mine", [1]);
    const history = await json<Entry[]>(a.dataDir, "wallet", "history");
    assert.equal(history.length, 14, "13 coinbases and the payment");
    const payment = history.find((e) => e.txid === txid[1])!;
    assert.deepEqual([payment.sent, payment.received, payment.confirmations], ["0", "0", 1]);
    assert.ok(Number(payment.fee) > 0);

    const lines = (await cli(a.dataDir, "wallet", "history")).stdout.trimEnd().split("\n");
    assert.equal(lines.length, 14);
    assert.match(
      lines[0],
      new RegExp(`^${txid[1]}  to itself \\(fee ${payment.fee} coins\\)  1 confirmations$`),
    );
    assert.match(lines[13], /^[0-9a-f]{64} {2}mined {5}\+50 coins {2}13 confirmations$/);
    const backup = await json<{ words: string; imported: unknown[] }>(a.dataDir, "wallet", "backup");
    assert.equal(backup.words.split(" ").length, 24);
    const human = await cli(a.dataDir, "wallet", "backup");
    assert.match(human.stdout, /Write these 24 words down/);
    assert.ok(human.stdout.includes(backup.words));
    const wordsFile = `${cluster.root}/words.txt`;
    await Deno.writeTextFile(wordsFile, backup.words + "\n");

    // Restore into a new data directory; the words never appear on a command line.
    const bDir = `${cluster.root}/b`;
    const restored = await cli(bDir, "wallet", "restore", "--words-file", wordsFile);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(
      restored.stdout,
      new RegExp(`^restored: ${(await json<{ address: string }>(a.dataDir, "address")).address}$`, "m"),
    );
    // Never over a wallet.
    const aBytes = await Deno.readFile(`${a.dataDir}/wallet.json`);
    assertRefusal(
      await cli(`${cluster.root}/b`, "wallet", "restore", "--words-file", wordsFile),
      1,
      /already exists: restore into a new data directory/,
    );

    const b = await cluster.start("b", { dataDir: bDir });
    const tip = (await a.rpc<{ tip: string }>("status")).tip;
    await waitFor(async () => (await statuses([b]))[0].tip === tip, 20_000, "b synced");
    await waitFor(
      async () => String(await balanceOf(b)) === String(await balanceOf(a)),
      5_000,
      "same balance",
    );
    const infoA = await json<Info>(a.dataDir, "wallet", "info");
    const infoB = await json<Info>(bDir, "wallet", "info");
    assert.ok(infoB.addresses.includes(fresh), "the fresh address was found");
    assert.deepEqual(infoB.addresses, infoA.addresses);
    assert.deepEqual(await json<Entry[]>(bDir, "wallet", "history"), history);

    // B spends the restored coins; A sees the payment.
    const toA = (await json<{ address: string }>(a.dataDir, "address", "--new")).address;
    const paid = await cli(bDir, "send", toA, "7");
    assert.equal(paid.code, 0, paid.stderr);
    await b.rpc("mine", [1]);
    // The same wallet: b's payment and its block's coinbase are in a's history too.
    await waitFor(
      async () =>
        JSON.stringify(await json<Entry[]>(a.dataDir, "wallet", "history")) ===
          JSON.stringify(await json<Entry[]>(bDir, "wallet", "history")),
      10_000,
      "a and b show the same history",
    );
    assert.equal((await json<Entry[]>(a.dataDir, "wallet", "history")).length, 16);
    assert.deepEqual(await balanceOf(a), await balanceOf(b));
    assert.equal(aBytes.length > 0, true);
  }, "peerchain-wallet-");
});

Deno.test("an encrypted wallet: a wrong passphrase or none is refused in one line and nothing changes", async () => {
  await withCluster(async (cluster) => {
    const a = await cluster.start("a");
    await a.rpc("mine", [12]);
    const pw = `${cluster.root}/pw.txt`, wrong = `${cluster.root}/wrong.txt`;
    await Deno.writeTextFile(pw, "correct horse battery staple\n");
    await Deno.writeTextFile(wrong, "correct horse battery stable\n");
    const words = (await json<{ words: string }>(a.dataDir, "wallet", "backup")).words;
    const enc = await cli(a.dataDir, "wallet", "encrypt", "--passphrase-file", pw);
    assert.equal(enc.code, 0, enc.stderr);
    const file = await Deno.readTextFile(`${a.dataDir}/wallet.json`);
    assert.ok(!file.includes(words.split(" ").slice(0, 3).join(" ")), "the words are not in the clear");
    assert.ok(JSON.parse(file).secrets.sealed);
    assertRefusal(await cli(a.dataDir, "wallet", "encrypt", "--passphrase-file", pw), 1, /already encrypted/);
    assert.equal((await json<Info>(a.dataDir, "wallet", "info")).locked, true);

    const to = (await json<{ address: string }>(a.dataDir, "address", "--new")).address; // works while locked
    const before = [await Deno.readFile(`${a.dataDir}/wallet.json`), await balanceOf(a)];
    assertRefusal(await cli(a.dataDir, "send", to, "1"), 1, /the wallet is encrypted: give its passphrase/);
    assertRefusal(
      await cli(a.dataDir, "send", to, "1", "--passphrase-file", wrong),
      1,
      /^peerchain: wrong passphrase: the wallet is unchanged$/,
    );
    assertRefusal(
      await cli(a.dataDir, "wallet", "backup", "--passphrase-file", wrong),
      1,
      /wrong passphrase/,
    );
    assertRefusal(
      await cli(a.dataDir, "wallet", "unlock", "--for", "60", "--passphrase-file", wrong),
      1,
      /wrong/,
    );
    assert.deepEqual([await Deno.readFile(`${a.dataDir}/wallet.json`), await balanceOf(a)], before);
    assert.equal((await json<Info>(a.dataDir, "wallet", "info")).locked, true);

    const ok = await cli(a.dataDir, "send", to, "1", "--passphrase-file", pw);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await json<Info>(a.dataDir, "wallet", "info")).locked, true, "locked again after the send");
    assert.equal(
      (await json<{ words: string }>(a.dataDir, "wallet", "backup", "--passphrase-file", pw)).words,
      words,
    );

    // The payment inside the window goes through the RPC (a new CLI process can take seconds to start on a
    // loaded machine, past a short window); the window is 5 s.
    const unlocked = await cli(a.dataDir, "wallet", "unlock", "--for", "5", "--passphrase-file", pw);
    assert.equal(unlocked.code, 0, unlocked.stderr);
    await a.rpc("send", [to, "1"]); // refused (it throws) if the wallet were still locked
    await sleep(5_500);
    assertRefusal(await cli(a.dataDir, "send", to, "1"), 1, /the wallet is encrypted/);

    // And after a restart it is still encrypted, and still the same wallet, its history found by the rescan
    // (confirmed first: the mempool is not kept across a restart).
    await a.rpc("mine", [1]);
    const historyBefore = await json<Entry[]>(a.dataDir, "wallet", "history");
    assert.equal(historyBefore.filter((e) => !e.coinbase).length, 2);
    await cluster.kill(a);
    await cluster.restart(a);
    assert.deepEqual(
      [
        (await json<Info>(a.dataDir, "wallet", "info")).encrypted,
        (await json<Info>(a.dataDir, "wallet", "info")).locked,
      ],
      [true, true],
    );
    assert.equal(
      (await json<{ words: string }>(a.dataDir, "wallet", "backup", "--passphrase-file", pw)).words,
      words,
    );
    assert.deepEqual(await json<Entry[]>(a.dataDir, "wallet", "history"), historyBefore);
  }, "peerchain-wallet-");
});

Deno.test("restore refuses truncated words, a word not in the list and a bad checksum, in one line, making nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "peerchain-wallet-" });
  try {
    const good =
      "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis maple dilemma loan word shrug inflict delay length"
        .split(" ");
    const cases: [string, string[], RegExp][] = [
      ["truncated", good.slice(0, 23), /the seed words are 23 words, not 24/],
      [
        "unknown",
        [...good.slice(0, 10), "peerchain", ...good.slice(11)],
        /seed word 11, "peerchain", is not in/,
      ],
      ["checksum", [good[1], good[0], ...good.slice(2)], /checksum does not match/],
    ];
    for (const [name, words, message] of cases) {
      await Deno.writeTextFile(`${root}/${name}.txt`, words.join(" "));
      assertRefusal(
        await cli(`${root}/${name}`, "wallet", "restore", "--words-file", `${root}/${name}.txt`),
        1,
        message,
      );
      assert.equal(await Deno.stat(`${root}/${name}`).then(() => true, () => false), false, "no folder made");
    }
    // Words on the command line are a usage error: they would land in the shell's history.
    const r = await cli(`${root}/x`, "wallet", "restore", ...good);
    assert.equal(r.code, 2);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("wallet encrypt refuses a passphrase under 8 characters, changing nothing", async () => {
  await withCluster(async (cluster) => {
    const a = await cluster.start("a");
    const short = `${cluster.root}/short.txt`;
    await Deno.writeTextFile(short, "1234567\n");
    const before = await Deno.readFile(`${a.dataDir}/wallet.json`);
    assertRefusal(
      await cli(a.dataDir, "wallet", "encrypt", "--passphrase-file", short),
      1,
      /at least 8 characters/,
    );
    assert.deepEqual(await Deno.readFile(`${a.dataDir}/wallet.json`), before);
    assert.equal((await json<Info>(a.dataDir, "wallet", "info")).encrypted, false);
  }, "peerchain-wallet-");
});

Deno.test("a format-1 wallet on a node: migrated at start, its address kept; wallet backup prints its key beside the words", async () => {
  await withCluster(async (cluster) => {
    const { exportPrivateKey, generateKeyPair } = await import("../lib/crypto/ed25519.ts");
    const { encodeAddress, pubKeyHash } = await import("../lib/crypto/address.ts");
    const pair = await generateKeyPair();
    const key = {
      pkcs8: (await exportPrivateKey(pair.privateKey)).toHex(),
      publicKey: pair.publicKey.toHex(),
      created: "2026-01-01T00:00:00.000Z",
    };
    const dataDir = `${cluster.root}/old`;
    await Deno.mkdir(dataDir);
    await Deno.writeTextFile(
      `${dataDir}/wallet.json`,
      JSON.stringify({ version: 1, network: "regtest", keys: [key] }),
    );
    const old = await cluster.start("old", { dataDir });
    const oldAddress = encodeAddress(pubKeyHash(pair.publicKey), "pcrt");
    assert.equal(JSON.parse(await Deno.readTextFile(`${dataDir}/wallet.json`)).version, 2);
    assert.ok((await json<Info>(dataDir, "wallet", "info")).addresses.includes(oldAddress));
    const backup = await cli(dataDir, "wallet", "backup");
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /The words do not cover this imported key/);
    assert.ok(backup.stdout.includes(`${oldAddress} ${key.pkcs8}`));
    assert.ok(old.alive);
  }, "peerchain-wallet-");
});

Deno.test("a node refuses a corrupt or damaged wallet with one line, exit 1, and changes nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "peerchain-wallet-" });
  try {
    const { freePort } = await import("./support/cluster.ts");
    const cases: [string, string, RegExp][] = [
      ["truncated", '{"version": 2, "network": "regt', /corrupt \(not valid JSON\)/],
      [
        "newer",
        JSON.stringify({ version: 3, network: "regtest" }),
        /format version 3, newer than this program/,
      ],
      [
        "damaged",
        JSON.stringify({
          version: 2,
          network: "regtest",
          secrets: { mnemonic: [...Array(23).fill("abandon"), "art"].join(" "), imported: [] },
          receive: { used: 1, keys: ["ab".repeat(32)] },
          change: { used: 0, keys: [] },
          imported: [],
        }),
        /seed words do not give its first key: the file is damaged/,
      ],
    ];
    for (const [name, text, message] of cases) {
      const dir = `${root}/${name}`;
      await Deno.mkdir(dir);
      await Deno.writeTextFile(`${dir}/wallet.json`, text);
      const r = await cli(
        dir,
        "run",
        "--headless",
        "--listen",
        `127.0.0.1:${freePort()}`,
        "--tracker",
        `${root}/tracker.txt`,
        "--no-explorer",
      );
      assertRefusal(r, 1, message);
      assert.equal(await Deno.readTextFile(`${dir}/wallet.json`), text, "the file is left as it was");
      const names = (await namesIn(dir)).filter((n) => n !== "LOCK");
      assert.deepEqual(names, ["wallet.json"], "no store was made");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
