/**
 * The interactive menu, driven like a person would: the real program in a pseudo-terminal (tmux), keys sent,
 * the screen read back. Plus the renderers' alignment and colour rules.
 */
import assert from "node:assert/strict";
import { callRpc } from "../lib/rpc/client.ts";
import { palette, statusLine, table, visibleWidth, wantColour } from "../lib/ui/render.ts";
import {
  DISCOVERY_QUESTION,
  type DiscoveryOfferHost,
  offerDiscovery,
  shouldOfferDiscovery,
} from "../lib/ui/menu.ts";
import { PromptCancelled } from "../lib/ui/prompts.ts";
import { freePort } from "./support/cluster.ts";
import { hasTmux, Terminal } from "./support/terminal.ts";

/**
 * The UDP sockets of the process listening on TCP `port` on 127.0.0.1 (via `ss`; null when `ss` is missing,
 * which only weakens the check).
 */
async function udpSocketsOf(port: number): Promise<string[] | null> {
  const run = (args: string[]) =>
    new Deno.Command("ss", { args, stdout: "piped", stderr: "null" }).output()
      .then((o) => new TextDecoder().decode(o.stdout), () => null);
  const tcp = await run(["-tlnpH", `sport = :${port}`]);
  const pid = tcp && /pid=(\d+)/.exec(tcp)?.[1];
  if (!pid) return null;
  const udp = await run(["-uanpH"]);
  return (udp ?? "").split("\n").filter((l) => l.includes(`pid=${pid},`));
}

const TMUX = hasTmux();
if (!TMUX) console.log("ui_menu_test: tmux is not installed: skipping the pseudo-terminal tests");

/** A character of the address's data part replaced by another valid one: a typo only the checksum catches. */
function mistype(address: string): string {
  const i = address.length - 5;
  return address.slice(0, i) + (address[i] === "q" ? "p" : "q") + address.slice(i + 1);
}

Deno.test({
  name: "menu: mine a block, a mistyped address is refused, quit exits 0, the chain is kept on restart",
  ignore: !TMUX,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "peerchain-menu-" });
    const dataDir = `${tmp}/data`;
    const term = new Terminal();
    const port = freePort();
    const node = { dataDir, listen: `127.0.0.1:${port}`, tracker: `${tmp}/tracker.txt` };
    try {
      await term.startMenu("first", node);
      // No tracker file and nobody there: the menu offers LAN discovery once; the answer here is no
      // (Enter takes the default, which is no), and nothing is broadcast.
      const offer = await term.waitFor([DISCOVERY_QUESTION, "(y/N)"]);
      assert.match(offer, /height: 0/, "the offer comes under the status, with the node already running");
      await term.keys("Enter");
      await term.waitFor(["Not looking", "What next?", "height: 0", "Quit"]);
      assert.deepEqual(await udpSocketsOf(port), [], "the node holds no UDP socket: discovery stayed off");

      // Mine block: the status line shows the new height.
      await term.type("Mine b");
      await term.keys("Enter");
      const mined = await term.waitFor(["height: 1", "Mined block 1", "What next?"]);
      assert.match(mined, /block 1 [0-9a-f]{16}… mined here/, "the news tells of the block");

      // New transaction to a mistyped address: refused where it is typed, nothing sent.
      const before = await callRpc(dataDir, "balance");
      const address = (await callRpc(dataDir, "address") as { address: string }).address;
      await term.type("New");
      await term.keys("Enter");
      await term.waitFor(["Pay to address:"]);
      await term.type(mistype(address));
      await term.keys("Enter");
      await term.waitFor(["refused: checksum mismatch"]);
      await term.keys("C-c");
      await term.waitFor(["Cancelled: back at the menu", "What next?"]);
      assert.deepEqual(await callRpc(dataDir, "mempool"), [], "nothing was sent");
      assert.deepEqual(await callRpc(dataDir, "balance"), before, "the balance did not move");

      // Quit: the node stops and the process exits 0.
      await term.type("Q");
      await term.keys("Enter");
      await term.waitFor(["EXIT=0"]);
      await term.tmux("kill-session", "-t", "first");

      // Restart on the same data directory: the chain is kept; the tracker file now names this node, so
      // there is no offer; Ctrl-C at the menu quits cleanly too.
      await term.startMenu("second", node);
      const again = await term.waitFor(["What next?", "height: 1"]);
      assert.ok(
        !again.includes(DISCOVERY_QUESTION),
        "the offer is made once, while the tracker file is empty",
      );
      await term.keys("C-c");
      await term.waitFor(["EXIT=0"]);
    } finally {
      await term.close();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "menu: continuous mining shows its hash rate and the blocks found as it goes, and stops when chosen again",
  ignore: !TMUX,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "peerchain-menu-" });
    const term = new Terminal();
    const node = { dataDir: `${tmp}/data`, listen: `127.0.0.1:${freePort()}`, tracker: `${tmp}/tracker.txt` };
    const line =
      /Mining continuously at \d+(\.\d+)? [kMG]?H\/s: (\d+) blocks? found in (\d+) s, now mining block \d+\./;
    try {
      await term.startMenu("mining", node);
      await term.waitFor([DISCOVERY_QUESTION]); // an empty tracker file: the one-time offer, declined
      await term.keys("Enter");
      await term.waitFor(["What next?", "height: 0"]);
      await term.type("Mine c");
      await term.keys("Enter");
      const first = line.exec(await term.waitFor([line, /mining \d+(\.\d+)? [kMG]?H\/s/]))!;
      // The same view, redrawn while mining: more blocks found, more time gone, without a key pressed.
      const later = await term.waitFor([
        new RegExp(
          `Mining continuously at .*: (?!${first[2]} )\\d+ blocks? found in (?!${first[3]} )\\d+ s`,
        ),
      ]);
      assert.match(later, line);
      await term.type("Mine c");
      await term.keys("Enter");
      await term.waitFor(["Continuous mining stopped.", "Mine continuously (off)"]);
      await term.type("Q");
      await term.keys("Enter");
      await term.waitFor(["EXIT=0"]);
    } finally {
      await term.close();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("menu render: table columns line up, numbers right-aligned, whatever the colours", () => {
  for (const colour of [false, true]) {
    const p = palette(colour);
    const lines = table(["height", "hash"], [["7", p.cyan("ab")], ["1234", "cdef"]], ["right", "left"], p);
    const widths = lines.map(visibleWidth);
    assert.equal(lines.length, 4);
    assert.equal(visibleWidth(lines[2]), "height  ab".length);
    // deno-lint-ignore no-control-regex
    assert.ok(lines[2].replace(/\x1b\[[0-9;]*m/g, "").startsWith("     7  ab"));
    assert.ok(lines[3].startsWith("  1234  cdef"));
    assert.equal(widths[0], widths[1], "header and rule are as wide as each other");
  }
});

Deno.test("menu render: no colour without a terminal; the status line wraps between fields", () => {
  assert.equal(wantColour(false), false);
  const plain = palette(false);
  assert.equal(plain.red("x"), "x");
  assert.notEqual(palette(true).red("x"), "x");
  const s = {
    role: "peer" as const,
    primary: "10.0.0.1:8333",
    peers: 2,
    height: 42,
    tip: "00".repeat(32),
    balance: 150_000_000, // base units, as Node.status() gives them
    immature: 5_000_000_000,
    pending: 0,
    mining: true,
    hashrate: 1_234_567,
  };
  const line = statusLine(s, plain);
  assert.match(line, /balance 1\.5 coins/);
  // A clock warning shows on the status line (the news line says what to do).
  assert.match(statusLine({ ...s, clockWarning: "x" }, plain), /clock off/);
  // Which of several nodes on this machine: its data directory.
  assert.match(statusLine({ ...s, dataDir: "/d/regtest-18766" }, plain), /data \/d\/regtest-18766/);
  assert.match(line, /height: 42/);
  assert.match(line, /primary 10\.0\.0\.1:8333/);
  assert.doesNotMatch(line, /\bhub\b/, "the human text says primary, never hub");
  assert.match(line, /mining 1\.23 MH\/s/);
  assert.match(line, /\+50 immature/);
  assert.doesNotMatch(line, /\n/);
  const narrow = statusLine(s, plain, 40).split("\n");
  assert.ok(narrow.length > 1 && narrow.every((l) => l.length <= 40), narrow.join("\n"));
  assert.equal(narrow.join(" · "), line, "wrapping only moves fields to the next line");
});

/** A node as the discovery offer sees it; counts searches. */
function fakeNode(
  over: Partial<{ knewNobody: boolean; discovering: boolean; role: string; links: number }> = {},
) {
  const n = {
    knewNobody: true,
    discovering: false,
    net: {
      role: over.role ?? "superpeer",
      linkCount: over.links ?? 0,
      primary: null as { listen: string } | null,
    },
    searches: 0,
    found: ["10.200.1.1:18765"],
    discover() {
      n.searches++;
      n.discovering = true;
      // What the node does with it: joins the first as a Peer.
      if (n.found.length) {
        Object.assign(n.net, { role: "peer", linkCount: 1, primary: { listen: n.found[0] } });
      }
      return Promise.resolve(n.found);
    },
    ...over,
  };
  return n satisfies DiscoveryOfferHost;
}

Deno.test("menu discovery offer: made only to a node that knew nobody and is alone, with discovery off", () => {
  assert.ok(shouldOfferDiscovery(fakeNode()));
  assert.ok(!shouldOfferDiscovery(fakeNode({ knewNobody: false })), "it had a tracker file or --connect");
  assert.ok(!shouldOfferDiscovery(fakeNode({ discovering: true })), "--discover is on already");
  assert.ok(!shouldOfferDiscovery(fakeNode({ role: "peer", links: 1 })), "it joined someone");
  assert.ok(!shouldOfferDiscovery(fakeNode({ links: 1 })), "a SuperPeer someone already joined");
});

Deno.test("menu discovery offer: no (or Ctrl-C) searches nothing; yes searches once and tells what it found", async () => {
  const asked: string[] = [];
  const say = (answer: boolean | "cancel") => (message: string) => {
    asked.push(message);
    return answer === "cancel" ? Promise.reject(new PromptCancelled("cancelled")) : Promise.resolve(answer);
  };
  const no = fakeNode();
  const noLines = await offerDiscovery(no, say(false));
  assert.equal(no.searches, 0, "no: nothing broadcast");
  assert.match(noLines!.join(" "), /Not looking/);
  const cancelled = fakeNode();
  assert.match((await offerDiscovery(cancelled, say("cancel")))!.join(" "), /Not looking/);
  assert.equal(cancelled.searches, 0, "Ctrl-C is no");
  assert.deepEqual(asked, [DISCOVERY_QUESTION, DISCOVERY_QUESTION]);

  const yes = fakeNode();
  const lines = (await offerDiscovery(yes, say(true)))!.join(" ");
  assert.equal(yes.searches, 1);
  assert.match(
    lines,
    /Found 1 SuperPeer on this LAN: 10\.200\.1\.1:18765\. Joined SuperPeer 10\.200\.1\.1:18765/,
  );
  const empty = fakeNode();
  empty.found = [];
  assert.match((await offerDiscovery(empty, say(true)))!.join(" "), /No SuperPeer answered/);

  // Not offered: not even asked.
  assert.equal(await offerDiscovery(fakeNode({ knewNobody: false }), say(true)), undefined);
  assert.equal(await offerDiscovery(yes, say(true)), undefined, "once discovery is on, never again");
  assert.equal(asked.length, 4);
});
