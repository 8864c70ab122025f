/**
 * The peerchain executable. Until the network and the menu land, `peerchain` opens the node's store
 * (creating it with the network's genesis block), prints the genesis block and the tip, and exits: it says
 * so instead of pretending to be a full node.
 * @module
 */
import { Chain } from "./lib/chain/chain.ts";
import { formatAmount } from "./lib/consensus/amount.ts";
import { type NetworkName, NETWORKS } from "./lib/consensus/params.ts";
import { defaultDataDir } from "./lib/data_dir.ts";
import { lockDataDir } from "./lib/store/lock.ts";
import { openStore } from "./lib/store/store.ts";

const USAGE = `usage: peerchain [--network main|regtest] [--data-dir DIR]`;

function fail(message: string, code: number): never {
  console.error(`peerchain: ${message}`);
  if (code === 2) console.error(USAGE);
  Deno.exit(code);
}

function parseArgs(args: string[]): { network: NetworkName; dataDir?: string } {
  let network: NetworkName = "main";
  let dataDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i] ?? fail(`${flag} needs a value`, 2);
    if (flag === "--network") {
      const v = value();
      if (v !== "main" && v !== "regtest") fail(`unknown network "${v}": use main or regtest`, 2);
      network = v;
    } else if (flag === "--data-dir") dataDir = value();
    else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    } else fail(`unknown argument "${args[i]}"`, 2);
  }
  return { network, dataDir };
}

if (import.meta.main) {
  const { network, dataDir = defaultDataDir(network) } = parseArgs(Deno.args);
  const params = NETWORKS[network];
  await Deno.mkdir(dataDir, { recursive: true });
  let lock;
  try {
    lock = lockDataDir(dataDir);
  } catch (e) {
    fail((e as Error).message, 1);
  }
  const store = openStore(`${dataDir}/chain.sqlite`);
  try {
    const chain = Chain.open(store, params);
    const g = params.genesis;
    const tip = chain.tip;
    console.log(`peerchain ${network} — data directory ${dataDir}`);
    console.log(
      `genesis  ${params.genesisHash}  time ${new Date(g.header.time * 1000).toISOString()}  bits ${
        g.header.bits.toString(16)
      }`,
    );
    console.log(`tip      ${tip.hash}  height: ${tip.height}  chainwork ${tip.chainWork.toString(16)}`);
    console.log(`utxos    ${chain.coinCount}  subsidy ${formatAmount(params.initialSubsidy)} coins`);
    console.log(
      "The network, the miner and the interactive menu are not built yet: this build only opens the store.",
    );
  } finally {
    store.close();
    lock?.release();
  }
}
