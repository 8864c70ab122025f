/**
 * `server_tracker.txt`: one address per line (`host port`, as the original wrote it, or `host:port`);
 * the first is the current SuperPeer, the rest are fallbacks. Written atomically.
 * @module
 */

import { writeFileAtomic } from "../atomic_file.ts";
import { AddressFormatError, type HostPort, parseHostPort } from "./messages.ts";

/** What `readTracker` found: the usable addresses in file order, and one warning per skipped line. */
export interface TrackerContents {
  /** Usable addresses, in file order, without duplicates. */
  readonly addrs: HostPort[];
  /** One warning per line that could not be read. */
  readonly warnings: string[];
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

/** The tracker file at `path`. */
export function trackerFile(path: string): TrackerFile {
  return { read: () => readTracker(path), write: (addrs) => writeTracker(path, addrs) };
}
