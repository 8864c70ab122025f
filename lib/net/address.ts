/**
 * Addresses as the overlay groups them: which hosts are this machine (loopback), and which socket addresses
 * are one host (an IPv4 address, an IPv6 /64). The one helper for these ideas; the explorer and LAN discovery
 * use it too.
 * @module
 */

/**
 * True for this machine's own addresses: 127.0.0.0/8, ::1, an IPv4-mapped 127.x address and localhost
 * (brackets allowed). Many nodes of one machine share such an address.
 */
export function isLoopback(host: string): boolean {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.startsWith("::ffff:")) h = h.slice(7);
  return h.startsWith("127.") || h === "::1" || h === "localhost";
}

/**
 * The host a socket address stands for: an IPv4 address itself, an IPv6 address its /64 (one machine may
 * hold many addresses of its /64), anything else as written. Not Bitcoin Core's netgroups: on a LAN every
 * machine shares one private /16, so those would make the whole LAN one group.
 */
export function hostGroup(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (!h.includes(":")) return h;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (v4) return v4[1];
  const [head, tail = ""] = h.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const fill = 8 - left.length - right.length;
  if (fill < 0) return h; // no IPv6 address: as written
  const words = h.includes("::") ? [...left, ...Array(fill).fill("0"), ...right] : left;
  return `${words.slice(0, 4).map((w) => parseInt(w || "0", 16).toString(16)).join(":")}::/64`;
}

/** The host of a "host:port" address (brackets dropped). */
export function hostOf(listen: string): string {
  const i = listen.lastIndexOf(":");
  const h = i < 0 ? listen : listen.slice(0, i);
  return h.startsWith("[") ? h.slice(1, -1) : h;
}
