/**
 * The interactive menu, driven like a person would: the real program in a pseudo-terminal (tmux), keys sent,
 * the screen read back. Plus the renderers' alignment and colour rules.
 */
import assert from "node:assert/strict";
import { callRpc } from "../lib/rpc/client.ts";
import { palette, statusLine, table, visibleWidth, wantColour } from "../lib/ui/render.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function hasTmux(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const TMUX = hasTmux();
if (!TMUX) console.log("menu_test: tmux is not installed: skipping the pseudo-terminal tests");

/** The permission flags of `deno task start`: the menu must work with exactly those. */
async function startPermissions(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  return (config.tasks.start as string).split(/\s+/).filter((t) => t.startsWith("--allow-"));
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** A private tmux server (its own socket, so parallel runs never meet) with one window per session. */
class Terminal {
  readonly socket = `peerchain-test-${crypto.randomUUID().slice(0, 8)}`;
  session = "";

  async tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", { args: ["-L", this.socket, ...args], stderr: "piped" })
      .output();
    if (!out.success) throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  }

  /** Runs `command` in a new 120×40 session; the pane stays after it ends, showing its exit code. */
  async start(session: string, command: string): Promise<void> {
    this.session = session;
    await this.tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "120",
      "-y",
      "40",
      `${command}; echo EXIT=$?; sleep 600`,
    );
  }

  screen(): Promise<string> {
    return this.tmux("capture-pane", "-p", "-t", this.session);
  }

  async keys(...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", this.session, ...keys);
  }

  /** Types text literally (no key names). */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-t", this.session, "-l", text);
  }

  /** Polls the screen every 100 ms until every pattern shows, or fails with the screen after `ms`. */
  async waitFor(patterns: (string | RegExp)[], ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (patterns.every((p) => typeof p === "string" ? screen.includes(p) : p.test(screen))) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${patterns.join(" and ")}; the screen:\n${screen}`);
  }

  /** Ends the server and every process in it, and removes its socket file (tmux leaves it behind). */
  async close(): Promise<void> {
    const path = (await this.tmux("display-message", "-p", "#{socket_path}").catch(() => "")).trim();
    await this.tmux("kill-server").catch(() => {});
    if (path) await Deno.remove(path).catch(() => {});
  }
}

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
    const command = [
      quote(Deno.execPath()),
      "run",
      ...(await startPermissions()),
      quote(`${ROOT}cli.ts`),
      "run",
      "--network regtest",
      `--data-dir ${quote(dataDir)}`,
      `--listen 127.0.0.1:${freePort()}`,
      `--tracker ${quote(`${tmp}/tracker.txt`)}`,
      "--threads 1",
    ].join(" ");
    try {
      await term.start("first", command);
      await term.waitFor(["What next?", "height: 0", "Quit"]);

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

      // Restart on the same data directory: the chain is kept; Ctrl-C at the menu quits cleanly too.
      await term.start("second", command);
      await term.waitFor(["What next?", "height: 1"]);
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
    const command = [
      quote(Deno.execPath()),
      "run",
      ...(await startPermissions()),
      quote(`${ROOT}cli.ts`),
      "run",
      "--network regtest",
      `--data-dir ${quote(`${tmp}/data`)}`,
      `--listen 127.0.0.1:${freePort()}`,
      `--tracker ${quote(`${tmp}/tracker.txt`)}`,
      "--threads 1",
    ].join(" ");
    const line =
      /Mining continuously at \d+(\.\d+)? [kMG]?H\/s: (\d+) blocks? found in (\d+) s, now mining block \d+\./;
    try {
      await term.start("mining", command);
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
    role: "peer",
    hub: "10.0.0.1:8333",
    peers: 2,
    height: 42,
    tip: "00".repeat(32),
    balance: 1.5,
    immature: 50,
    pending: 0,
    mining: true,
    hashrate: 1_234_567,
  };
  const line = statusLine(s, plain);
  assert.match(line, /height: 42/);
  assert.match(line, /hub 10\.0\.0\.1:8333/);
  assert.match(line, /mining 1\.23 MH\/s/);
  assert.match(line, /\+50 immature/);
  assert.doesNotMatch(line, /\n/);
  const narrow = statusLine(s, plain, 40).split("\n");
  assert.ok(narrow.length > 1 && narrow.every((l) => l.length <= 40), narrow.join("\n"));
  assert.equal(narrow.join(" · "), line, "wrapping only moves fields to the next line");
});
