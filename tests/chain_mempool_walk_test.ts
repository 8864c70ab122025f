/**
 * The mempool's one walk over unconfirmed relatives (`relatives` in lib/chain/mempool.ts), both ways: up the
 * parents to the ancestors, down the children to the descendants. Each direction is checked alone and through
 * the pool: removing a transaction with its descendants leaves its ancestors, and the package counts follow.
 */
import assert from "node:assert/strict";
import { relatives } from "../lib/chain/mempool.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { spend } from "./support/ledger.ts";
import { COIN_AMOUNT, fundedLedger } from "./support/rules.ts";

interface Node {
  name: string;
  parents: Set<Node>;
  children: Set<Node>;
}

/** A graph of named nodes from `child <- parent` pairs. */
function graph(edges: [child: string, parent: string][]): Map<string, Node> {
  const nodes = new Map<string, Node>();
  const at = (name: string) => {
    if (!nodes.has(name)) nodes.set(name, { name, parents: new Set(), children: new Set() });
    return nodes.get(name)!;
  };
  for (const [c, p] of edges) {
    at(c).parents.add(at(p));
    at(p).children.add(at(c));
  }
  return nodes;
}

const names = (s: Set<Node>) => [...s].map((n) => n.name).sort();

Deno.test("relatives: parents lead to the ancestors, children to the descendants, each once, never itself", () => {
  // a <- b <- d -> c -> a (a diamond), d <- e, and an unrelated pair x <- y.
  const g = graph([["b", "a"], ["c", "a"], ["d", "b"], ["d", "c"], ["e", "d"], ["y", "x"]]);
  assert.deepEqual(names(relatives(g.get("d")!, "parents")), ["a", "b", "c"]);
  assert.deepEqual(names(relatives(g.get("d")!, "children")), ["e"]);
  assert.deepEqual(names(relatives(g.get("a")!, "children")), ["b", "c", "d", "e"]);
  assert.deepEqual(names(relatives(g.get("a")!, "parents")), []);
  assert.deepEqual(names(relatives(g.get("b")!, "parents")), ["a"]);
  assert.deepEqual(names(relatives(g.get("b")!, "children")), ["d", "e"]);
  assert.deepEqual(names(relatives(g.get("y")!, "parents")), ["x"]);
});

Deno.test("relatives: in the pool, removing the middle of a chain takes its descendants and keeps its ancestors", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const a = await spend(k, [l.coins[0]], [{ amount: COIN_AMOUNT - 1_000, pubKeyHash: k.pkh }]);
  const b = await spend(k, [{ txid: txid(a), index: 0 }], [{
    amount: COIN_AMOUNT - 2_000,
    pubKeyHash: k.pkh,
  }]);
  const c = await spend(k, [{ txid: txid(b), index: 0 }], [{
    amount: COIN_AMOUNT - 3_000,
    pubKeyHash: k.pkh,
  }]);
  for (const tx of [a, b, c]) await l.mempool.accept(tx);
  assert.equal(l.mempool.get(txid(a))!.descendantCount, 3);
  assert.equal(l.mempool.get(txid(c))!.ancestorCount, 3);
  l.mempool.removeWithDescendants(txid(b));
  assert.deepEqual([a, b, c].map((tx) => l.mempool.has(txid(tx))), [true, false, false]);
  assert.equal(l.mempool.get(txid(a))!.descendantCount, 1, "the ancestor's package count follows");
  assert.equal(l.mempool.get(txid(a))!.descendantSize, l.mempool.get(txid(a))!.size);
});
