/**
 * The join path's dials of addresses other nodes named (`full` and `redirect` answers) pass the dial budget
 * (issue 19): a joining node asked again and again whose every answer is a redirect to fresh addresses (a
 * redirect storm, or a reflector aimed at third parties) dials at most the budget's burst of them at once.
 */
import assert from "node:assert/strict";
import { Joining, type JoiningHooks } from "../lib/net/joining.ts";
import { AddressBook } from "../lib/net/address_book.ts";
import type { AskResult, RoleState } from "../lib/net/link_state.ts";
import { MESH_DIAL_BURST } from "../lib/net/config.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";
import { memoryTracker } from "../lib/sim/world.ts";

Deno.test("a joining node whose every answer redirects to fresh addresses dials a bounded number of them", async () => {
  const clock = new VirtualClock().forNode();
  const book = new AddressBook(memoryTracker([{ hostname: "10.0.0.1", port: 8765 }]), clock);
  await book.load();
  let role: RoleState = { kind: "joining" };
  let fresh = 0;
  const named: string[] = [];
  const hooks: JoiningHooks = {
    nodeId: "me",
    clock,
    random: () => 0.5,
    book,
    deadAfterMs: 8_000,
    advertise: () => "10.0.0.99:8765",
    stopping: () => false,
    role: () => role,
    ask: (addr): Promise<AskResult> => {
      if (addr !== "10.0.0.1:8765") named.push(addr);
      // Each answer names two addresses nobody named before (a reflector's targets).
      const to = [0, 1].map(() => `10.7.${(++fresh >> 8) & 255}.${fresh & 255}:8765`);
      return Promise.resolve({ kind: "redirect", to, superpeer: true });
    },
    took: () => {},
    extra: () => Promise.resolve("level"),
    tipHeight: () => 0,
    starved: () => false,
    release: () => {},
    directory: () => [],
    promote: () => void (role = { kind: "superpeer", since: clock.now() }),
    dialMesh: () => {},
    jitter: (ms) => ms,
  };
  const joining = new Joining(hooks);
  for (let i = 0; i < 40; i++) {
    role = { kind: "joining" };
    await joining.join("test");
  }
  assert.ok(named.length > 0, "answers were followed");
  assert.ok(named.length <= MESH_DIAL_BURST, `${named.length} addresses named by answers dialled at once`);
});
