/**
 * A `Link` for relay tests: nothing is sent anywhere; every message sent on it is kept in `sent`, as the other
 * side would read it (through JSON and the message parser), so a test sees exactly what went on the wire.
 */
import type { Link } from "../../lib/net/link.ts";
import { type HelloMessage, type Message, parseMessage } from "../../lib/net/messages.ts";

/** A link to the node `name` (its hello's node id) that records what is sent on it. */
export function recordingLink(name: string): Link & { sent: Message[] } {
  const sent: Message[] = [];
  return {
    sent,
    inbound: false,
    openedAt: 0,
    hello: { nodeId: name } as HelloMessage,
    conn: {
      send: (m: Message) => sent.push(parseMessage(JSON.parse(JSON.stringify(m)))) > 0,
      isClosed: false,
    } as unknown as Link["conn"],
  };
}
