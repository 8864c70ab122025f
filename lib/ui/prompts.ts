/**
 * Keyboard input for the menu. This is the one module that uses the prompt library (`@inquirer/prompts`),
 * so swapping the library is one edit here; it also reads single keys while something runs (mining).
 * @module
 */
import process from "node:process";

type Inquirer = typeof import("@inquirer/prompts");

/** The person pressed Ctrl-C (or the terminal went away) during a prompt. */
export class PromptCancelled extends Error {
  /** The error's name, for logs. */
  override name = "PromptCancelled";
}

/** The prompt was withdrawn through its `signal` (the menu redraws with news). */
export class PromptAborted extends Error {
  /** The error's name, for logs. */
  override name = "PromptAborted";
}

let library: Promise<Inquirer> | undefined;

/**
 * Deno throws (or, on a terminal, stops to ask) when code reads an environment variable it was not granted.
 * The prompt library and Deno's `node:` colour detection read many (`INQUIRER_KEYBINDINGS`,
 * `NODE_DISABLE_COLORS`, `TMUX`, `CI`, `COLORTERM`, … depending on the terminal), and the node is granted only
 * the few it needs. A variable it may not read is treated as unset: no permission prompt can appear under the
 * menu and the binary keeps its narrow `--allow-env` list.
 */
function treatUngrantedEnvAsUnset(): void {
  const get = Deno.env.get.bind(Deno.env);
  Deno.env.get = (key: string) => {
    const state = Deno.permissions.querySync({ name: "env", variable: key }).state;
    return state === "granted" ? get(key) : undefined;
  };
}

/**
 * The prompt library watches signals through `signal-exit`, which re-raises SIGINT or SIGTERM when it sees no
 * other `process.on` listener for it. The node's own handlers (`Deno.addSignalListener` in cli.ts) are
 * invisible to it, so the node would get the signal twice, and a second signal means "exit at once". A
 * listener here tells it the signal is handled; the node's handlers still do the stopping.
 */
function keepSignalsForTheNode(): void {
  process.on("SIGINT", () => {});
  if (Deno.build.os !== "windows") process.on("SIGTERM", () => {});
}

function load(): Promise<Inquirer> {
  if (!library) {
    treatUngrantedEnvAsUnset();
    keepSignalsForTheNode();
    library = import("@inquirer/prompts");
  }
  return library;
}

/**
 * Loads the prompt library now. On a machine that has never run the menu this is when it is fetched, so
 * call it before drawing anything: the fetch's progress line must not land in the middle of the screen.
 */
export async function preloadPrompts(): Promise<void> {
  await load();
}

/** Turns the library's errors into ours: Ctrl-C is `PromptCancelled`, a withdrawn prompt `PromptAborted`. */
function translate(e: unknown): never {
  const name = e instanceof Error ? e.name : "";
  if (name === "ExitPromptError" || name === "CancelPromptError") throw new PromptCancelled("cancelled");
  if (name === "AbortPromptError") throw new PromptAborted("aborted");
  throw e;
}

/** A menu entry. */
export interface Choice<T> {
  /** What `choose` returns for it. */
  value: T;
  /** Its label (unique within a menu). */
  name: string;
  /** One line shown under the menu while it is highlighted. */
  description?: string;
  /** Why it cannot be chosen now, or false. */
  disabled?: string | false;
}

/** What `choose` shows. */
export interface ChooseOptions<T> {
  /** The question. */
  message: string;
  /** The entries, all shown at once. */
  choices: Choice<T>[];
  /** The entry highlighted first. */
  default?: T;
  /** Withdraws the prompt (it then rejects with `PromptAborted`). */
  signal?: AbortSignal;
  /** Hears which entry is highlighted, so a redrawn menu can keep the person's place. */
  onActive?: (value: T) => void;
  /** Colours the highlighted entry. */
  highlight?: (text: string) => string;
}

/** Lets the person pick one entry with the arrow keys (or by typing its first letters) and Enter. */
export async function choose<T>(opts: ChooseOptions<T>): Promise<T> {
  const { select } = await load();
  const highlight = opts.highlight ?? ((t: string) => t);
  try {
    return await select<T>({
      message: opts.message,
      choices: opts.choices.map((c) => ({
        value: c.value,
        name: c.name,
        description: c.description,
        disabled: c.disabled || false,
      })),
      default: opts.default,
      pageSize: opts.choices.length, // the whole menu at once: nothing scrolls out of sight
      loop: false,
      theme: {
        style: {
          highlight: (text: string) => {
            const active = opts.choices.find((c) => text.endsWith(` ${c.name}`));
            if (active) opts.onActive?.(active.value);
            return highlight(text);
          },
        },
      },
    }, { signal: opts.signal, clearPromptOnDone: true });
  } catch (e) {
    translate(e);
  }
}

/** What `ask` shows. */
export interface AskOptions {
  /** The question. */
  message: string;
  /** The answer when the person just presses Enter. */
  default?: string;
  /** True to accept, or a message saying what is wrong (shown under the prompt, which stays open). */
  validate?: (text: string) => true | string | Promise<true | string>;
  /** A note after the text while it is typed (for example "checksum ok"). */
  hint?: (text: string) => string;
}

/** Reads a line of text, checked by `validate` before it is accepted. */
export async function ask(opts: AskOptions): Promise<string> {
  const { input } = await load();
  try {
    return await input({
      message: opts.message,
      default: opts.default,
      validate: opts.validate,
      transformer: opts.hint && ((text, { isFinal }) => isFinal ? text : text + opts.hint!(text)),
    });
  } catch (e) {
    translate(e);
  }
}

/** Asks a yes/no question. */
export async function confirmYes(message: string, dflt = false): Promise<boolean> {
  const { confirm } = await load();
  try {
    return await confirm({ message, default: dflt });
  } catch (e) {
    translate(e);
  }
}

/** A wait for any key (Ctrl-C included, as the terminal is raw meanwhile). */
export interface KeyWait {
  /** Resolves when a key is pressed; never resolves when stdin is not a terminal. */
  pressed: Promise<void>;
  /** Stops listening and gives the terminal back its line mode. */
  dispose(): void;
}

/** Listens for one key press while something runs, so a person can cancel it. */
export function waitForKey(): KeyWait {
  const stdin = process.stdin;
  if (!stdin.isTTY) return { pressed: new Promise(() => {}), dispose: () => {} };
  let onData = () => {};
  const pressed = new Promise<void>((resolve) => onData = () => resolve());
  stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.resume();
  return {
    pressed,
    dispose() {
      stdin.removeListener("data", onData);
      stdin.pause();
      stdin.setRawMode(false);
    },
  };
}

/** Leaves the terminal as a shell expects it: line mode, cursor shown. Safe to call at any time. */
export function restoreTerminal(): void {
  try {
    if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
  } catch { /* the terminal is gone: nothing to restore */ }
  try {
    if (Deno.stdout.isTerminal()) Deno.stdout.writeSync(new TextEncoder().encode("\x1b[?25h"));
  } catch { /* idem */ }
}

/** Reads a secret (a passphrase) without showing it; `validate` as for `ask`. */
export async function askPassword(
  message: string,
  validate?: (text: string) => true | string | Promise<true | string>,
): Promise<string> {
  const { password } = await load();
  try {
    return await password({ message, mask: "*", validate });
  } catch (e) {
    translate(e);
  }
}
