/**
 * `server_tracker.txt`: one address per line (`host port`, as the original wrote it, or `host:port`);
 * the first is the current SuperPeer, the rest are fallbacks. Written atomically.
 *
 * A node never rewrites the tracker file it was given (a clone's shipped `server_tracker.txt` stays as it is):
 * what it learns goes to a file of its own network beside it, `server_tracker.<network>.txt`
 * (`learnedTrackerPath`), which it reads first. Lines of that file it cannot read are kept when it rewrites it.
 * @module
 */

import { writeFileAtomic } from "../runtime/atomic_file.ts";
import { AddressFormatError, type HostPort, parseHostPort } from "./messages.ts";

/** What `readTracker` found: the usable addresses in file order, and one warning per skipped line. */
export interface TrackerContents {
  /** Usable addresses, in file order, without duplicates. */
  readonly addrs: HostPort[];
  /** One warning per line that could not be read. */
  readonly warnings: string[];
  /**
   * What the file that `write` replaces holds now, when that is not all of `addrs` (a learned file read
   * before the given one): so a writer knows whether its list is already on disk.
   */
  readonly stored?: HostPort[];
}

/** Parses tracker text; duplicates keep their first position. Never throws. */
export function parseTracker(text: string): TrackerContents {
  const addrs: HostPort[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    try {
      const a = parseHostPort(line);
      const k = `${a.hostname.toLowerCase()} ${a.port}`;
      if (!seen.has(k)) {
        seen.add(k);
        addrs.push(a);
      }
    } catch (e) {
      if (!(e instanceof AddressFormatError)) throw e;
      warnings.push(`line ${i + 1}: ${e.message}`);
    }
  });
  return { addrs, warnings };
}

/** Formats addresses one per line as `host port`, the form the original program reads. */
export function formatTracker(addrs: readonly HostPort[]): string {
  return addrs.map((a) => `${a.hostname} ${a.port}\n`).join("");
}

/** Reads a tracker file; a missing file is an empty list. Other I/O errors propagate. */
export async function readTracker(path: string): Promise<TrackerContents> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { addrs: [], warnings: [] };
    throw e;
  }
  return parseTracker(text);
}

/** Replaces the tracker file atomically (`writeFileAtomic`): nodes in the same folder never read half a file. */
export async function writeTracker(path: string, addrs: readonly HostPort[]): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(formatTracker(addrs)));
}

/** Where a network keeps its tracker list: a file for a real node, memory in the simulation. */
export interface TrackerFile {
  /** The addresses in file order (a missing file is an empty list). */
  read(): Promise<TrackerContents>;
  /** Replaces the list. */
  write(addrs: readonly HostPort[]): Promise<void>;
}

/**
 * Where a node keeps the SuperPeers it learned for `network`, beside the tracker file `path`:
 * `server_tracker.txt` gives `server_tracker.regtest.txt` (one file per network, so networks never mix).
 * @example learnedTrackerPath("/srv/server_tracker.txt", "main") // "/srv/server_tracker.main.txt"
 */
export function learnedTrackerPath(path: string, network: string): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? `${path.slice(0, dot)}.${network}${path.slice(dot)}` : `${path}.${network}`;
}

/** The lines of tracker text that `parseTracker` cannot read (comments and blank lines are not among them). */
export function unreadableLines(text: string): string[] {
  return text.split(/\r?\n/).filter((raw) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return false;
    return parseTracker(line).addrs.length === 0;
  });
}

/**
 * The tracker file at `path`. With `learned` (see `learnedTrackerPath`), reads that file's addresses first,
 * then `path`'s, and writes only `learned`, keeping the lines of it that it cannot read; `path` is never
 * written. Each read reports a file's unreadable lines as warnings, named by file and line.
 */
export function trackerFile(path: string, learned?: string): TrackerFile {
  if (learned === undefined) {
    return {
      read: () => readTracker(path),
      write: (addrs) => writeTracker(path, addrs),
    };
  }
  return {
    async read() {
      const mine = await readTracker(learned);
      const shipped = await readTracker(path);
      const seen = new Set<string>();
      const addrs = [...mine.addrs, ...shipped.addrs].filter((a) => {
        const k = `${a.hostname.toLowerCase()} ${a.port}`;
        return !seen.has(k) && !!seen.add(k);
      });
      const warnings = [
        ...mine.warnings.map((w) => `${learned} ${w}`),
        ...shipped.warnings.map((w) => `${path} ${w}`),
      ];
      return { addrs, warnings, stored: mine.addrs };
    },
    async write(addrs) {
      let kept: string[] = [];
      try {
        kept = unreadableLines(await Deno.readTextFile(learned));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      const tail = kept.length
        ? `# lines peerchain could not read, kept as they were:\n${kept.map((l) => `${l}\n`).join("")}`
        : "";
      const text = formatTracker(addrs) + tail;
      await writeFileAtomic(learned, new TextEncoder().encode(text));
    },
  };
}
