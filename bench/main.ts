/**
 * `deno task bench [--json] [--quick] [section...]`: runs the benchmark sections and prints their figures,
 * as a table per section or, with `--json`, one JSON object keyed by section.
 * @module
 */
import { benchExplorer } from "./explorer.ts";
import { benchLedger } from "./ledger.ts";
import { benchMining } from "./mining.ts";
import { benchNetwork } from "./network.ts";
import { benchNode } from "./node.ts";
import { benchRelay } from "./relay.ts";
import { loadAverage } from "./stats.ts";
import { benchWallet } from "./wallet.ts";

type Section = (opts: { quick?: boolean }) => Promise<Record<string, unknown>>;

const SECTIONS: Record<string, Section> = {
  ledger: benchLedger,
  mining: benchMining,
  network: benchNetwork,
  relay: benchRelay,
  node: benchNode,
  explorer: benchExplorer,
  wallet: benchWallet,
};

const args = Deno.args;
const json = args.includes("--json"), quick = args.includes("--quick");
const wanted = args.filter((a) => !a.startsWith("--"));
for (const name of wanted) {
  if (!(name in SECTIONS)) {
    console.error(`unknown section "${name}": choose from ${Object.keys(SECTIONS).join(", ")}`);
    Deno.exit(2);
  }
}
const result: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine:
    `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}`,
};
for (const [name, run] of Object.entries(SECTIONS)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const before = await loadAverage();
  const figures = await run({ quick });
  // Every section's figures with the machine's load beside them (a section may print its own, finer).
  if (!("load_avg_1m" in figures)) {
    figures.load_avg_1m = `${before?.toFixed(2)} -> ${(await loadAverage())?.toFixed(2)}`;
  }
  result[name] = figures;
  if (!json) {
    console.log(`\n${name}`);
    for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(28)} ${v}`);
  }
}
if (json) console.log(JSON.stringify(result, null, 2));
