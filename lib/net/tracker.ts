/**
 * `server_tracker.txt`: one address per line (`host port`, as the original wrote it, or `host:port`);
 * the first is the current SuperPeer, the rest are fallbacks. Written atomically.
 * @module
 */

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

/**
 * Replaces the tracker file atomically: writes a uniquely named temp file in the same directory,
 * syncs it, then renames it over `path`, so readers (other nodes in the same folder) never see half a file.
 */
export async function writeTracker(path: string, addrs: readonly HostPort[]): Promise<void> {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const dir = slash >= 0 ? path.slice(0, slash + 1) : "";
  const base = path.slice(slash + 1);
  const tmp = `${dir}.${base}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      const bytes = new TextEncoder().encode(formatTracker(addrs));
      for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
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
