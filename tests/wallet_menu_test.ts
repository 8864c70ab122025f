/**
 * The menu's wallet screens, driven in a pseudo-terminal (tmux) as a person would: a fresh address, the seed
 * words only after a warning and a yes (and the same words the RPC backup gives), encryption with the
 * passphrase typed twice, and a payment from the encrypted wallet that shows the suggested fee rate before
 * the confirmation and asks for the passphrase (a wrong one is refused and asked again).
 */
import assert from "node:assert/strict";
import { callRpc } from "../lib/rpc/client.ts";
import { freePort } from "./support/cluster.ts";
import { hasTmux, Terminal } from "./support/terminal.ts";

const TMUX = hasTmux();

Deno.test({
  name: "menu wallet: new address, seed words after a warning, encrypt, and a send that asks the passphrase",
  ignore: !TMUX,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "peerchain-menu-wallet-" });
    const dataDir = `${tmp}/data`;
    const term = new Terminal();
    const node = { dataDir, listen: `127.0.0.1:${freePort()}`, tracker: `${tmp}/tracker.txt` };
    try {
      await term.startMenu("wallet", node);
      await term.waitFor(["(y/N)"]);
      await term.keys("Enter"); // no LAN discovery
      await term.waitFor(["What next?"]);
      await callRpc(dataDir, "mine", [12]);

      const openWallet = async () => {
        await term.type("Wallet");
        await term.keys("Enter");
        await term.waitFor(["Back up seed words"]);
      };
      const pick = async (entry: string) => {
        await openWallet();
        await term.type(entry);
        await term.keys("Enter");
      };

      await pick("New");
      const shown = await term.waitFor(["New receiving address: pcrt1", "What next?"]);
      const fresh = /New receiving address: (pcrt1\w+)/.exec(shown)![1];
      const info = await callRpc(dataDir, "wallet.info") as { addresses: string[] };
      assert.ok(info.addresses.includes(fresh));

      await pick("History");
      await term.waitFor(["History (newest first)", "mined     +50 coins", "What next?"]);

      // The words: a warning first; no shows nothing.
      await pick("Back");
      await term.waitFor(["give anyone who sees them all the coins", "(y/N)"]);
      await term.keys("Enter");
      await term.waitFor(["Seed words not shown.", "What next?"]);
      await pick("Back");
      await term.waitFor(["(y/N)"]);
      await term.type("y");
      await term.keys("Enter");
      const words = (await callRpc(dataDir, "wallet.backup") as { words: string }).words.split(" ");
      const screen = await term.waitFor(["Write these words down", `24. ${words[23]}`, "What next?"]);
      assert.ok(words.every((w, i) => screen.includes(`${String(i + 1).padStart(2)}. ${w}`)), screen);

      // Encrypt: the passphrase twice.
      await pick("Encrypt");
      await term.waitFor(["New passphrase:"]);
      await term.type("menu passphrase 1");
      await term.keys("Enter");
      await term.waitFor(["The same passphrase again:"]);
      await term.type("menu passphrase 1");
      await term.keys("Enter");
      await term.waitFor(["The wallet is encrypted.", "What next?"]);
      assert.deepEqual(
        await callRpc(dataDir, "wallet.info").then((i) => [(i as { locked: boolean }).locked]),
        [true],
      );

      // Send from the locked wallet: the fee at the suggested rate, then the passphrase.
      await term.type("New t");
      await term.keys("Enter");
      await term.waitFor(["Pay to address:"]);
      await term.type(fresh);
      await term.keys("Enter");
      await term.waitFor(["Amount in coins"]);
      await term.type("1.5");
      await term.keys("Enter");
      await term.waitFor(["at the suggested 10 units per byte", "(y/N)"]);
      await term.type("y");
      await term.keys("Enter");
      await term.waitFor(["Wallet passphrase:"]);
      await term.type("not it");
      await term.keys("Enter");
      await term.waitFor(["wrong passphrase"]);
      assert.deepEqual(await callRpc(dataDir, "mempool"), [], "nothing sent on a wrong passphrase");
      await term.keys("C-u");
      await term.type("menu passphrase 1");
      await term.keys("Enter");
      await term.waitFor(["Sent 1.5 coins to", "What next?"]);
      assert.equal((await callRpc(dataDir, "mempool") as unknown[]).length, 1);

      await term.keys("C-c");
      await term.waitFor(["EXIT=0"]);
    } finally {
      await term.close();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
