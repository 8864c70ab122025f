/**
 * `deno task screenshot [OUT.png]`: the README's picture of the explorer during a failover. Starts five regtest
 * nodes on 127.0.0.1, mines and pays so every panel has something to show, opens the dashboard of the node
 * that will take over, SIGKILLs the SuperPeer, and takes the PNG (default docs/explorer-failover.png) once the
 * map shows the dead hub crossed out and the new SuperPeer in its place. Needs chromium (`apt-get install
 * chromium`). Every process it starts is killed at the end, also on failure.
 * @module
 */
import { Cluster, freePort, type PeersInfo, waitFor, waitForOneHub } from "../tests/support/nodes.ts";
import { haveChromium, launchBrowser } from "../tests/support/browser.ts";

const out = Deno.args[0] ?? new URL("../docs/explorer-failover.png", import.meta.url).pathname;
if (!haveChromium()) Deno.exit(1);

const cluster = await Cluster.create();
const browser = await launchBrowser();
try {
  const names = ["hub", "ada", "ben", "cy", "dee"];
  const nodes = [];
  for (const name of names) {
    nodes.push(await cluster.start(name, { args: ["--explorer", `127.0.0.1:${freePort()}`] }));
  }
  const hub = await waitForOneHub(nodes, 30_000, "the five nodes to form one network");
  // Blocks from several miners, then payments waiting in the mempool.
  await nodes[1].rpc("mine", [12]);
  await nodes[2].rpc("mine", [3]);
  await hub.rpc("mine", [2]);
  for (const [i, amount] of [[2, "1.5"], [3, "0.25"], [4, "3"], [3, "0.7"]] as const) {
    const to = (await nodes[i].rpc<{ address: string }>("status")).address;
    await nodes[1].rpc("send", [to, amount]);
  }
  await nodes[2].rpc("mine", [1]);
  const to = (await nodes[4].rpc<{ address: string }>("status")).address;
  await nodes[1].rpc("send", [to, "2"]);
  await nodes[1].rpc("send", [to, "0.125"]);

  // The successor is the first live node of the last peer list after the hub.
  const list = (await hub.rpc<PeersInfo>("peers")).peers.map((p) => p.listen);
  const successor = nodes.find((n) => n.listen === list[1])!;
  const url = (await successor.rpc<{ explorer: string }>("status")).explorer;
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000, deviceScaleFactor: 1 });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body.live-on", { timeout: 10_000 });
  await page.waitForSelector("#charts .uplot", { timeout: 10_000 });

  hub.kill("SIGKILL");
  await page.waitForSelector("#network .netmap .sp.lost", { timeout: 30_000 });
  await page.waitForSelector("#network .netmap .sp.self:not(.lost)", { timeout: 30_000 });
  await waitFor(
    async () => (await page.$$("#network .netmap .peer:not(.lost)")).length >= 3,
    30_000,
    "the surviving peers to rejoin",
  );
  await new Promise((r) => setTimeout(r, 400));
  await Deno.mkdir(new URL(".", `file://${out}`).pathname, { recursive: true });
  await page.screenshot({ path: out as `${string}.png`, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await cluster.cleanup();
}
