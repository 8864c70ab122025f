/**
 * The interactive menu in a pseudo-terminal: a private tmux server, keys sent, the screen read back. Used by
 * the menu tests on 127.0.0.1 and by the LAN tests (the menu of a node inside a network namespace).
 */
import { startPermissions } from "./cli.ts";
import { nodeArgv, type NodeCommand } from "./cluster.ts";

/** True when tmux can be run here. */
export function hasTmux(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** Quotes `s` for a POSIX shell. */
export const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** A private tmux server (its own socket, so parallel runs never meet) with one window per session. */
export class Terminal {
  readonly socket = `peerchain-test-${crypto.randomUUID().slice(0, 8)}`;
  session = "";

  async tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", { args: ["-L", this.socket, ...args], stderr: "piped" })
      .output();
    if (!out.success) throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  }

  /** Runs `command` in a new 120×40 session; the pane stays after it ends, showing its exit code. */
  /**
   * Starts a node's menu in a new session: `nodeArgv` with `menu`, the permissions of `deno task start` and
   * the node's default timings, unless `c` says otherwise.
   */
  async startMenu(session: string, c: NodeCommand): Promise<void> {
    const argv = nodeArgv({ permissions: startPermissions(), defaultTimings: true, ...c, menu: true });
    await this.start(session, argv.map(quote).join(" "));
  }

  async start(session: string, command: string): Promise<void> {
    this.session = session;
    const args = [
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "120",
      "-y",
      "40",
      `${command}; echo EXIT=$?; sleep 600`,
    ];
    // A tmux server starting while the machine is busy now and then exits before it took the session
    // ("server exited unexpectedly"): a fresh try then succeeds.
    for (let attempt = 1;; attempt++) {
      try {
        return void await this.tmux(...args);
      } catch (e) {
        if (attempt >= 3 || !/server exited unexpectedly/.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
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
