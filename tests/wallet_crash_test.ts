/**
 * Deterministic crash injection for the wallet: a child process (tests/support/wallet_crash_child.ts) creates,
 * migrates, encrypts or saves a wallet and SIGKILLs itself right after its k-th file-system step, for every k.
 * After each crash the wallet opens, and no key is lost: the words and imported keys are the ones before (or,
 * for a new wallet, there is none or a whole one), an encrypted one opens with the passphrase to the same
 * words, and every address the child had handed out is still the wallet's. No temporary file is left behind.
 */
import assert from "node:assert/strict";
import { NETWORKS } from "../lib/consensus/params.ts";
import { exportPrivateKey, generateKeyPair } from "../lib/crypto/ed25519.ts";
import { toHex } from "../lib/crypto/hex.ts";
import { MIN_SCRYPT_N } from "../lib/wallet/secret_box.ts";
import { Wallet } from "../lib/wallet/wallet.ts";
import { PASSPHRASE } from "./support/wallet_crash_child.ts";
import { namesIn, withTempDir } from "./support/temp_dir.ts";

const regtest = NETWORKS.regtest;
const CHILD = new URL("./support/wallet_crash_child.ts", import.meta.url).pathname;
const dec = new TextDecoder();

async function runChild(path: string, scenario: string, killAt: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", CHILD, path, scenario, String(killAt)],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, signal: out.signal, lines: dec.decode(out.stdout).split("\n").filter(Boolean) };
}

type Before = { words?: string; imported: string[] };

/** Prepares `path` for `scenario` and returns the secrets it holds (nothing for `create`). */
async function prepare(path: string, scenario: string): Promise<Before> {
  if (scenario === "create") return { imported: [] };
  if (scenario === "migrate") {
    const keys = [];
    for (let i = 0; i < 2; i++) {
      const pair = await generateKeyPair();
      keys.push({
        pkcs8: toHex(await exportPrivateKey(pair.privateKey)),
        publicKey: toHex(pair.publicKey),
        created: "2026-01-01T00:00:00.000Z",
      });
    }
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, network: "regtest", keys }));
    return { imported: keys.map((k) => k.pkcs8) };
  }
  const w = await Wallet.open(path, regtest);
  return { words: w.backup().words, imported: [] };
}

/** What the wallet at `path` holds after the crash, opened as the node would. */
async function after(path: string): Promise<{ words: string; imported: string[]; addresses: string[] }> {
  const w = await Wallet.open(path, regtest, { scryptN: MIN_SCRYPT_N });
  const backup = await w.withPassphrase(w.locked ? PASSPHRASE : undefined, () => Promise.resolve(w.backup()));
  return { words: backup.words, imported: backup.imported.map((k) => k.pkcs8), addresses: w.addresses() };
}

for (const scenario of ["create", "migrate", "encrypt", "save"]) {
  Deno.test(`wallet crash injection, ${scenario}: a SIGKILL after any file-system step loses no key`, async () => {
    await withTempDir(async (dir) => {
      const template = `${dir}/template`;
      await Deno.mkdir(template);
      const before = await prepare(`${template}/wallet.json`, scenario);
      const copy = async (to: string) => {
        await Deno.mkdir(to);
        for await (const e of Deno.readDir(template)) {
          await Deno.copyFile(`${template}/${e.name}`, `${to}/${e.name}`);
        }
      };
      await copy(`${dir}/count`);
      const dry = await runChild(`${dir}/count/wallet.json`, scenario, 0);
      assert.equal(dry.code, 0, dry.lines.join("\n"));
      const steps = dry.lines.filter((l) => l.startsWith("step ")).length;
      assert.ok(steps >= 3, `${scenario} takes file-system steps: ${dry.lines.join(" | ")}`);
      for (let k = 1; k <= steps; k++) {
        const at = `${dir}/k${k}`;
        await copy(at);
        const r = await runChild(`${at}/wallet.json`, scenario, k);
        assert.equal(r.signal, "SIGKILL", `killed at step ${k}`);
        const handedOut = r.lines.filter((l) => l.startsWith("address ")).map((l) => l.slice(8));
        const exists = await Deno.stat(`${at}/wallet.json`).then(() => true, () => false);
        // Killed before a new wallet existed, nothing is lost; the node then makes one.
        assert.ok(exists || scenario === "create", `step ${k}: the wallet file is there`);
        const got = await after(`${at}/wallet.json`);
        if (before.words) assert.equal(got.words, before.words, `step ${k}: the same words`);
        assert.deepEqual(got.imported, before.imported, `step ${k}: every imported key`);
        for (const a of handedOut) assert.ok(got.addresses.includes(a), `step ${k}: handed-out ${a} kept`);
        assert.deepEqual(
          await namesIn(at),
          ["wallet.json"],
          `step ${k}: no temporary file left after reopening`,
        );
      }
    }, "peerchain-wallet-crash-");
  });
}
