/**
 * `deno task screenshot [OUT.png]`: the README's pictures of the explorer: on a desktop during a failover, and
 * on a phone (390 px wide: the dashboard and a transaction page, beside OUT as `-phone.png` and
 * `-phone-tx.png`). Starts seven
 * regtest nodes on 127.0.0.1 serving at most two Peers per SuperPeer (so the overlay has several
 * SuperPeers), mines and pays so every panel has something to show, opens the dashboard of a Peer,
 * SIGKILLs its primary SuperPeer, and takes the PNG (default docs/explorer-failover.png) once the map shows
 * the dead SuperPeer crossed out and the Peer linked again. Needs chromium (`apt-get install chromium`).
 * Every process it starts is killed at the end, also on failure.
 * @module
 */
import type { NodeStatus } from "../lib/node.ts";
import { Cluster, freePort, type TestNode, waitForOneNetwork } from "../tests/support/cluster.ts";
import { waitFor } from "../tests/support/wait.ts";
import { haveChromium, launchBrowser } from "../tests/support/browser.ts";

const out = Deno.args[0] ?? new URL("../docs/explorer-failover.png", import.meta.url).pathname;
if (!haveChromium()) Deno.exit(1);

const cluster = await Cluster.create();
const browser = await launchBrowser();
try {
  const names = ["ann", "ben", "cy", "dee", "eve", "fay", "gus"];
  const nodes: TestNode[] = [];
  for (const name of names) {
    nodes.push(
      await cluster.start(name, { args: ["--explorer", `127.0.0.1:${freePort()}`, "--max-peers", "2"] }),
    );
  }
  await waitForOneNetwork(nodes, 60_000, "the seven nodes to form one network");
  // Blocks from several miners, then payments waiting in the mempool.
  await nodes[1].rpc("mine", [12]);
  await nodes[2].rpc("mine", [3]);
  await nodes[0].rpc("mine", [2]);
  for (const [i, amount] of [[2, "1.5"], [3, "0.25"], [4, "3"], [3, "0.7"]] as const) {
    const to = (await nodes[i].rpc<NodeStatus>("status")).address;
    await nodes[1].rpc("send", [to, amount]);
  }
  await nodes[2].rpc("mine", [1]);
  const to = (await nodes[4].rpc<NodeStatus>("status")).address;
  await nodes[1].rpc("send", [to, "2"]);
  const { txid: shown } = await nodes[1].rpc<{ txid: string }>("send", [to, "0.125"]);

  // A Peer whose primary SuperPeer is one of ours: that SuperPeer dies, the Peer's dashboard shows it.
  const all = await Promise.all(nodes.map((n) => n.rpc<NodeStatus>("status")));
  const i = all.findIndex((s) => s.role === "peer" && nodes.some((n) => n.listen === s.hub));
  if (i < 0) throw new Error("no Peer with a primary SuperPeer among the nodes");
  const watcher = nodes[i], victim = nodes.find((n) => n.listen === all[i].hub)!;
  const url = all[i].explorer!;
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000, deviceScaleFactor: 1 });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body.live-on", { timeout: 10_000 });
  await page.waitForSelector("#charts .uplot", { timeout: 10_000 });

  victim.kill("SIGKILL");
  await page.waitForSelector("#network .netmap .sp.lost", { timeout: 30_000 });
  await waitFor(
    async () => {
      const s = await watcher.rpc<NodeStatus>("status");
      return s.hub !== null && s.hub !== victim.listen;
    },
    30_000,
    "the Peer to link to another SuperPeer",
  );
  await new Promise((r) => setTimeout(r, 600)); // the map follows within a second
  await Deno.mkdir(new URL(".", `file://${out}`).pathname, { recursive: true });
  await page.screenshot({ path: out as `${string}.png`, fullPage: true });
  console.log(`wrote ${out}`);

  // A phone: the same dashboard, then a payment's page, one screen each.
  const phone = out.replace(/\.png$/, "-phone.png"), phoneTx = out.replace(/\.png$/, "-phone-tx.png");
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1 });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body.live-on", { timeout: 10_000 });
  await page.screenshot({ path: phone as `${string}.png` });
  console.log(`wrote ${phone}`);
  await page.goto(`${new URL(url).origin}/tx/${shown}`, { waitUntil: "load" });
  await page.screenshot({ path: phoneTx as `${string}.png` });
  console.log(`wrote ${phoneTx}`);
} finally {
  await browser.close();
  await cluster.cleanup();
}
