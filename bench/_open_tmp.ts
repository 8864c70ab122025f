import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { openStore } from "../lib/store/store.ts";
const ts: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  const store = openStore("/tmp/perf/full/chain.sqlite");
  Chain.open(store, NETWORKS.regtest);
  ts.push(performance.now() - t);
  store.close();
}
console.log(ts.map((x) => x.toFixed(1)).join(" "));
