/**
 * The rule audit: for each consensus rule and store invariant, plants its removal in a copy of the repository
 * (one plant at a time), runs the tests meant to catch it, and reports which of them went red. A plant that no
 * test catches is a missing test. The table in tests/README.md is this script's output.
 *
 * `deno run -A tests/plant_audit.ts [--only ID[,ID...]] [--markdown]`
 *
 * The copy lives in a temporary folder (the test vectors are inside the repository, so it is whole), and the
 * working tree is never changed. The unplanted copy must pass first.
 * @module
 */

/** One planted bug: `from` (which must occur exactly once, or `count` times) replaced by `to` in `file`. */
export interface Plant {
  /** Short stable name. */
  id: string;
  /** The rule or invariant the plant removes, as the table shows it. */
  rule: string;
  /** Repository-relative path. */
  file: string;
  from: string;
  to: string;
  /** How many occurrences are replaced (default 1). */
  count?: number;
  /** `from` and `to` are hex bytes (a binary file). */
  binary?: boolean;
  /** Test files to run (default `LEDGER_TESTS`). */
  tests?: string[];
  /** Why no test can catch this plant: the code it removes is redundant or unreachable (a finding). */
  equivalent?: string;
}

/** The in-process tests of the ledger, the codecs and proof of work: seconds to run. */
export const LEDGER_TESTS = [
  "tests/chain_rules_block_test.ts",
  "tests/chain_rules_tx_test.ts",
  "tests/chain_signatures_test.ts",
  "tests/chain_consensus_test.ts",
  "tests/chain_reorg_test.ts",
  "tests/store_test.ts",
  "tests/consensus_pow_test.ts",
  "tests/consensus_amount_test.ts",
  "tests/primitives_property_test.ts",
  "tests/consensus_bitcoin_vectors_test.ts",
  "tests/wallet_test.ts",
];
const STORE_TESTS = [
  "tests/store_test.ts",
  "tests/store_crash_test.ts",
  "tests/store_crash_inject_test.ts",
  "tests/chain_reorg_test.ts",
];
const KERNEL_TESTS = ["tests/mining_kernel_test.ts"];
/** The explorer: every field escaped, every status with its headers, strict parsers. */
const EXPLORER_TESTS = ["tests/explorer_hostile_test.ts", "tests/explorer_status_test.ts"];
/** Every bound at N−1, N and N+1, from one table. */
const BOUND_TESTS = ["tests/bounds_test.ts"];
/** The error paths of two-part updates (store, then memory) and the fork choice's tie-breaks. */
const FAILURE_TESTS = [
  "tests/chain_store_failure_test.ts",
  "tests/chain_tie_break_test.ts",
  "tests/chain_reorg_test.ts",
];
/** The overlay's rules in process: its pure functions, and the real Network on the simulated LAN. */
const OVERLAY_TESTS = ["tests/net_overlay_rules_test.ts", "tests/net_sim_test.ts"];
/** The overlay's rules as `Network` feeds them, on the simulated LAN. */
const WIRING_TESTS = ["tests/net_wiring_test.ts"];
/** The k-th write of the bans, tracker and wallet files failing, and a store write failing under a Node. */
const WRITE_FAULT_TESTS = ["tests/write_fault_test.ts"];
const NODE_FAILURE_TESTS = ["tests/node_store_failure_test.ts"];

const ensureTrue = (cond: string) => ({ from: cond, to: "true" });

/** Every plant, grouped by file. */
/** Compact relay and pipelined sync, in process: about a second. */
const RELAY_TESTS = ["tests/net_compact_test.ts", "tests/net_sync_test.ts"];

export const PLANTS: Plant[] = [
  // lib/consensus/amount.ts
  {
    id: "money-integer",
    rule: "an amount is a whole number of units",
    file: "lib/consensus/amount.ts",
    from: "Number.isSafeInteger(units) && units >= 0",
    to: "units >= 0",
  },
  {
    id: "money-negative",
    rule: "an amount is not negative",
    file: "lib/consensus/amount.ts",
    from: "units >= 0 && units <= MAX_MONEY",
    to: "units <= MAX_MONEY",
  },
  {
    id: "money-max",
    rule: "an amount is at most 21,000,000 coins",
    file: "lib/consensus/amount.ts",
    from: "units >= 0 && units <= MAX_MONEY",
    to: "units >= 0",
  },
  // lib/consensus/params.ts
  {
    id: "subsidy-halving",
    rule: "the subsidy halves every halvingInterval blocks",
    file: "lib/consensus/params.ts",
    from: "Math.floor(params.initialSubsidy / 2 ** halvings)",
    to: "params.initialSubsidy",
  },
  {
    id: "future-2h",
    rule: "a block's time is at most 2 hours ahead (the constant)",
    file: "lib/consensus/params.ts",
    from: "MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60",
    to: "MAX_FUTURE_BLOCK_TIME = 3 * 60 * 60",
  },
  {
    id: "mtp-11",
    rule: "median time past spans 11 blocks (the constant)",
    file: "lib/consensus/params.ts",
    from: "MEDIAN_TIME_SPAN = 11",
    to: "MEDIAN_TIME_SPAN = 5",
  },
  // lib/consensus/pow.ts
  {
    id: "bits-negative",
    rule: "compact bits with the sign bit set mean target 0",
    file: "lib/consensus/pow.ts",
    from: "if (bits & 0x00800000) return 0n; // negative",
    to: "",
  },
  {
    id: "bits-negative-small",
    rule: "small compact bits with the sign bit set mean target 0",
    file: "lib/consensus/pow.ts",
    from: "return (bits & 0x00800000) && word !== 0 ? 0n : BigInt(word);",
    to: "return BigInt(word);",
  },
  {
    id: "bits-overflow",
    rule: "compact bits that overflow 256 bits mean target 0",
    file: "lib/consensus/pow.ts",
    from:
      "if (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)) return 0n; // overflow",
    to: "",
  },
  {
    id: "pow-zero-target",
    rule: "a zero (invalid) target is met by no hash",
    file: "lib/consensus/pow.ts",
    from: "if (target <= 0n || (powLimit",
    to: "if ((powLimit",
  },
  {
    id: "pow-limit",
    rule: "a target above the network's pow limit is refused",
    file: "lib/consensus/pow.ts",
    from: "(powLimit !== undefined && target > powLimit)",
    to: "false",
  },
  {
    id: "pow-compare",
    rule: "a hash equal to the target meets it",
    file: "lib/consensus/pow.ts",
    from: "hashToBigInt(hashHex) <= target",
    to: "hashToBigInt(hashHex) < target",
  },
  {
    id: "work-plus-one",
    rule: "block work is 2^256 / (target + 1)",
    file: "lib/consensus/pow.ts",
    from: "TWO_256 / (target + 1n)",
    to: "TWO_256 / target",
  },
  {
    id: "retarget-clamp-low",
    rule: "the retarget timespan is at least a quarter of the target",
    file: "lib/consensus/pow.ts",
    from: "Math.max(actualTimespan, Math.floor(targetTimespan / 4))",
    to: "actualTimespan",
  },
  {
    id: "retarget-clamp-high",
    rule: "the retarget timespan is at most four times the target",
    file: "lib/consensus/pow.ts",
    from: "targetTimespan * 4);",
    to: "Infinity);",
  },
  {
    id: "retarget-cap",
    rule: "a retarget never goes above the pow limit",
    file: "lib/consensus/pow.ts",
    from: "if (target > powLimit) target = powLimit;",
    to: "",
  },
  // lib/chain/block_rules.ts
  {
    id: "high-hash",
    rule: "high-hash: the header's hash meets its bits",
    file: "lib/chain/block_rules.ts",
    from: "checkProofOfWork(hash, block.header.bits, params.powLimit),",
    to: "true,",
  },
  {
    id: "high-hash-limit",
    rule: "high-hash: bits easier than the pow limit are refused (even for an orphan)",
    file: "lib/chain/block_rules.ts",
    from: "checkProofOfWork(hash, block.header.bits, params.powLimit),",
    to: "checkProofOfWork(hash, block.header.bits),",
  },
  {
    id: "blk-empty",
    rule: "bad-blk-length: a block has at least one transaction",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("block.txs.length > 0"),
  },
  {
    id: "blk-size",
    rule: "bad-blk-length: a block is at most 1,000,000 bytes",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("size <= MAX_BLOCK_SIZE"),
  },
  {
    id: "cb-missing",
    rule: "bad-cb-missing: the first transaction is a coinbase",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("isCoinbase(block.txs[0])"),
  },
  {
    id: "cb-multiple",
    rule: "bad-cb-multiple: no other transaction is a coinbase",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("!isCoinbase(block.txs[i])"),
  },
  {
    id: "txns-duplicate",
    rule: "bad-txns-duplicate: no transaction twice in a block",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("new Set(ids).size === block.txs.length"),
  },
  {
    id: "merkle-root",
    rule: "bad-txnmrklroot: the header commits to the transactions",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("blockMerkleRoot(block.txs, wtxids) === block.header.merkleRoot"),
  },
  {
    id: "block-checktx",
    rule: "every transaction of a block passes the context-free rules",
    file: "lib/chain/block_rules.ts",
    from: "for (const tx of block.txs) checkTransaction(tx);",
    to: "",
  },
  {
    id: "diffbits",
    rule: "bad-diffbits: bits are the required ones",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("h.bits === bits"),
  },
  {
    id: "time-too-old",
    rule: "time-too-old: time after the median time past",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("h.time > mtp"),
  },
  {
    id: "time-too-old-equal",
    rule: "time-too-old: a time equal to the median time past is refused",
    file: "lib/chain/block_rules.ts",
    from: "h.time > mtp",
    to: "h.time >= mtp",
  },
  {
    id: "mtp-median",
    rule: "median time past is the median (not the earliest) of the last 11",
    file: "lib/chain/block_rules.ts",
    from: "times[Math.floor(times.length / 2)]",
    to: "times[0]",
  },
  {
    id: "mtp-sort",
    rule: "median time past sorts the times (they need not be in order)",
    file: "lib/chain/block_rules.ts",
    from: "times.sort((a, b) => a - b);",
    to: "",
  },
  {
    id: "time-too-new",
    rule: "time-too-new: at most 2 hours ahead of the clock",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("h.time <= now + MAX_FUTURE_BLOCK_TIME"),
  },
  {
    id: "cb-height",
    rule: "bad-cb-height: the coinbase commits to the block's height",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("block.txs[0].lockTime === height"),
  },
  {
    id: "nonfinal-both",
    rule: "bad-txns-nonfinal: checked when a block arrives, not only when it is connected (a side branch)",
    file: "lib/chain/block_rules.ts",
    ...ensureTrue("tx.lockTime <= height"),
  },
  {
    id: "retarget-when",
    rule: "retargeting happens exactly every retargetInterval blocks",
    file: "lib/chain/block_rules.ts",
    from: "height % params.retargetInterval !== 0",
    to: "height % params.retargetInterval !== 1",
  },
  {
    id: "retarget-first",
    rule: "the retarget timespan starts retargetInterval blocks back",
    file: "lib/chain/block_rules.ts",
    from: "firstPeriod ? 1 : height - params.retargetInterval)",
    to: "firstPeriod ? 1 : height - params.retargetInterval + 1)",
  },
  {
    id: "retarget-span",
    rule: "the retarget aims at retargetInterval × targetSpacing",
    file: "lib/chain/block_rules.ts",
    from: "params.retargetInterval * params.targetSpacing,",
    to: "params.targetSpacing * 12,",
  },
  // lib/chain/tx_rules.ts
  {
    id: "vout-empty",
    rule: "bad-txns-vout-empty: at least one output",
    file: "lib/chain/tx_rules.ts",
    ...ensureTrue("tx.outputs.length > 0"),
  },
  {
    id: "vout-negative",
    rule: "bad-txns-vout-negative: no negative output",
    file: "lib/chain/tx_rules.ts",
    ...ensureTrue("o.amount >= 0"),
  },
  {
    id: "vout-toolarge",
    rule: "bad-txns-vout-toolarge: no output above the money supply",
    file: "lib/chain/tx_rules.ts",
    ...ensureTrue("isMoneyRange(o.amount)"),
  },
  {
    id: "txouttotal",
    rule: "bad-txns-txouttotal-toolarge: outputs together within the money supply",
    file: "lib/chain/tx_rules.ts",
    ...ensureTrue("total <= MAX_MONEY"),
  },
  {
    id: "inputs-duplicate",
    rule: "bad-txns-inputs-duplicate: no outpoint twice in a transaction",
    file: "lib/chain/tx_rules.ts",
    ...ensureTrue("!seen.has(key)"),
  },
  {
    id: "inputs-duplicate-two",
    rule: "bad-txns-inputs-duplicate: checked from two inputs on",
    file: "lib/chain/tx_rules.ts",
    from: "if (tx.inputs.length < 2) return;",
    to: "if (tx.inputs.length < 3) return;",
  },
  {
    id: "mature",
    rule: "bad-txns-premature-spend-of-coinbase: coinbase outputs mature",
    file: "lib/chain/tx_rules.ts",
    from: "spendHeight - coin.height >= coinbaseMaturity",
    to: "true",
  },
  {
    id: "mature-early",
    rule: "a coinbase matures after exactly coinbaseMaturity blocks (not one earlier)",
    file: "lib/chain/tx_rules.ts",
    from: "spendHeight - coin.height >= coinbaseMaturity",
    to: "spendHeight - coin.height >= coinbaseMaturity - 1",
  },
  {
    id: "mature-late",
    rule: "a coinbase matures after exactly coinbaseMaturity blocks (not one later)",
    file: "lib/chain/tx_rules.ts",
    from: "spendHeight - coin.height >= coinbaseMaturity",
    to: "spendHeight - coin.height > coinbaseMaturity",
  },
  {
    id: "inputs-nonfinal",
    rule: "bad-txns-nonfinal: lockTime checked for the mempool's next block",
    file: "lib/chain/tx_rules.ts",
    ...ensureTrue("tx.lockTime <= spendHeight"),
  },
  {
    id: "inputs-missing",
    rule: "bad-txns-inputs-missingorspent: every input spends an unspent output",
    file: "lib/chain/tx_rules.ts",
    ...ensureTrue("coin !== undefined"),
  },
  {
    id: "pubkey-address",
    rule: "bad-pubkey-address: the input's key hashes to the spent output's key hash",
    file: "lib/chain/tx_rules.ts",
    from: "input.publicKey.length === 32 && pubKeyHash(input.publicKey) === coin.pubKeyHash",
    to: "true",
  },
  {
    id: "in-belowout",
    rule: "bad-txns-in-belowout: outputs at most the inputs",
    file: "lib/chain/tx_rules.ts",
    ...ensureTrue("valueIn >= valueOut"),
  },
  {
    id: "in-belowout-strict",
    rule: "a transaction without fee is valid in a block",
    file: "lib/chain/tx_rules.ts",
    from: "valueIn >= valueOut",
    to: "valueIn > valueOut",
  },
  {
    id: "sig-single",
    rule: "bad-sig: a one-input transaction's signature is verified",
    file: "lib/chain/tx_rules.ts",
    from: '  ensure(bad < 0, "bad-sig", "input 0 has an invalid signature");',
    to: "  void bad;",
  },
  {
    id: "sig-first-only",
    rule: "bad-sig: every input's signature is verified (not input 0 alone)",
    file: "lib/chain/tx_rules.ts",
    from: "    inputs.forEach((input, i) => {",
    to: "    inputs.slice(0, 1).forEach((input, i) => {",
  },
  {
    id: "sig-last-only",
    rule: "bad-sig: every input's signature is verified (not the last alone)",
    file: "lib/chain/tx_rules.ts",
    from: "    inputs.forEach((input, i) => {",
    to: "    inputs.forEach((input, i) => {\n      if (i < inputs.length - 1) return;",
  },
  {
    id: "sig-skip-input-2",
    rule: "bad-sig: input 2's signature is verified (the coin-of-a-victim case)",
    file: "lib/chain/tx_rules.ts",
    from: "      items.push({ publicKey: input.publicKey, signature: input.signature, message });",
    to:
      "      if (i === 2) return;\n      items.push({ publicKey: input.publicKey, signature: input.signature, message });",
  },
  {
    id: "sigkey-first-only",
    rule: "the signature cache's key covers every input's signature",
    file: "lib/chain/tx_rules.ts",
    from: "for (const i of tx.inputs) key += i.signature.toHex();",
    to: "key += tx.inputs[0].signature.toHex();",
  },
  {
    id: "sigkey-none",
    rule: "the signature cache's key covers the signatures, not only the txid",
    file: "lib/chain/tx_rules.ts",
    from: "for (const i of tx.inputs) key += i.signature.toHex();",
    to: "",
  },
  // lib/chain/chain.ts
  {
    id: "cb-amount",
    rule: "bad-cb-amount: the coinbase pays at most subsidy + fees",
    file: "lib/chain/chain.ts",
    ...ensureTrue("reward <= allowed"),
  },
  {
    id: "cb-amount-fees",
    rule: "bad-cb-amount: the coinbase may claim the fees",
    file: "lib/chain/chain.ts",
    from: "blockSubsidy(height, params) + fees",
    to: "blockSubsidy(height, params)",
  },
  {
    id: "double-spend-in-block",
    rule: "an output spent earlier in the same block is gone",
    file: "lib/chain/chain.ts",
    from: "return spentHere.has(key) ? undefined : created.get(key) ?? this.#coins.get(key);",
    to: "return created.get(key) ?? this.#coins.get(key);",
  },
  {
    id: "chained-in-block",
    rule: "an output created earlier in the same block may be spent",
    file: "lib/chain/chain.ts",
    from: "return spentHere.has(key) ? undefined : created.get(key) ?? this.#coins.get(key);",
    to: "return spentHere.has(key) ? undefined : this.#coins.get(key);",
  },
  {
    id: "block-sigs",
    rule: "a block's signatures are verified (unless the same ones were)",
    file: "lib/chain/chain.ts",
    from: "if (this.#sigCache.has(w)) this.#sigStats.hits++;",
    to: "if (this.#sigCache.has(w) || true) this.#sigStats.hits++;",
  },
  {
    id: "block-sigs-awaited",
    rule: "a block is connected only after its signatures verified",
    file: "lib/chain/chain.ts",
    from: "    await signatures;\n",
    to: "",
  },
  {
    id: "block-sigs-stopped",
    rule: "a block its inputs refuse starts none of its signature checks that had not started",
    file: "lib/chain/chain.ts",
    from: "      stop.abort();\n",
    to: "",
    tests: ["tests/chain_signatures_test.ts"],
  },
  {
    id: "verify-abort",
    rule: "an aborted group of signature checks starts no more of them",
    file: "lib/crypto/verify_queue.ts",
    from: "if (group.bad < 0) group.bad = group.next;",
    to: "",
    tests: ["tests/crypto_verify_queue_test.ts"],
  },
  {
    id: "verify-failed-dropped",
    rule: "a transaction whose signature failed starts no more checks (its group is dropped from the queue)",
    file: "lib/crypto/verify_queue.ts",
    from: "          group.bad = index;\n          this.#failed = true;",
    to: "          group.bad = index;",
    tests: ["tests/crypto_verify_queue_test.ts", "tests/crypto_verify_pool_test.ts"],
  },
  {
    id: "coin-batch-written",
    rule: "a block's coins written a batch per statement are all written",
    file: "lib/store/store.ts",
    from: "this.#q.addCoins.run(...created.slice(j, j + COIN_BATCH).flatMap(row));",
    to: "",
    tests: ["tests/store_test.ts"],
  },
  {
    id: "coin-batch-rest-deleted",
    rule: "a block's spent coins past the last full batch are deleted too",
    file: "lib/store/store.ts",
    from: "for (; i < spent.length; i++) this.#q.delCoin.run(spent[i]);",
    to: "",
    tests: ["tests/store_test.ts"],
  },
  {
    id: "txids-carried-mempool",
    rule: "the mempool drops a confirmed transaction by the id the chain carried for it",
    file: "lib/chain/mempool.ts",
    from: "const id = txids[t];",
    to: "const id = txids[0];",
    tests: ["tests/chain_mempool_test.ts"],
  },
  {
    id: "txids-carried-disconnect",
    rule: "disconnecting a block removes the outputs of each of its transactions, by its carried id",
    file: "lib/chain/chain.ts",
    from: "removed.push(`${txids[i]}:${j}`)",
    to: "removed.push(`${txids[0]}:${j}`)",
  },
  {
    id: "undo-spent",
    rule: "undo data holds every coin a block spent",
    file: "lib/chain/chain.ts",
    from: "else undo.push([key, this.#coins.get(key)!]);",
    to: "",
  },
  {
    id: "undo-restore",
    rule: "disconnecting a block restores the coins it spent",
    file: "lib/chain/chain.ts",
    from: "for (const [key, coin] of restored) this.#coins.set(key, coin);",
    to: "",
  },
  {
    id: "disconnect-removes",
    rule: "disconnecting a block removes the coins it created",
    file: "lib/chain/chain.ts",
    from: "for (const key of removed) this.#coins.delete(key);",
    to: "",
  },
  {
    id: "fork-choice-equal",
    rule: "fork choice: more work wins; equal work keeps the first seen",
    file: "lib/chain/chain.ts",
    from: "a.chainWork === b.chainWork && a.seq < b.seq",
    to: "a.chainWork === b.chainWork",
  },
  {
    id: "fork-choice-length",
    rule: "fork choice: by work, not by length",
    file: "lib/chain/chain.ts",
    from: "a.chainWork > b.chainWork || (a.chainWork === b.chainWork && a.seq < b.seq)",
    to: "a.height > b.height || (a.height === b.height && a.seq < b.seq)",
  },
  {
    id: "remember-invalid",
    rule: "duplicate-invalid: a block refused for its content is remembered",
    file: "lib/chain/chain.ts",
    from: "if (e instanceof ValidationError && e.score > 0) this.#markInvalid(hash);",
    count: 2,
    to: "",
  },
  {
    id: "invalid-parent-unindexed",
    rule: "bad-prevblk: a child of a refused (unindexed) block is refused, not kept as an orphan",
    file: "lib/chain/chain.ts",
    from: "if (this.#invalid.has(header.prevHash)) {",
    to: "if (false) {",
  },
  {
    id: "invalid-parent-failed",
    rule: "bad-prevblk: a child of a block that failed to connect is refused",
    file: "lib/chain/chain.ts",
    from: "if (parent.status & BlockStatus.FAILED) {",
    to: "if (false) {",
  },
  {
    id: "mark-failed-descendants",
    rule: "a block that fails to connect marks its stored descendants failed",
    file: "lib/chain/chain.ts",
    from: "if (a !== bad) continue;",
    to: "if (e !== bad) continue;",
  },
  {
    id: "failed-status-stored",
    rule: "a block that failed to connect is stored as failed (a restart does not retry it)",
    file: "lib/chain/chain.ts",
    from: "      this.#store.setStatus(e.hash, e.status | BlockStatus.FAILED);\n",
    to: "",
  },
  {
    id: "store-network",
    rule: "a store of another network is refused",
    file: "lib/chain/chain.ts",
    from: "if (network !== this.params.name) {",
    to: "if (false) {",
  },
  {
    id: "resume",
    rule: "start-up connects a stored block with more work than the tip (a crash mid-reorg)",
    file: "lib/chain/chain.ts",
    from:
      "return best === this.tip ? { disconnected: [], connected: [] } : (await this.#resumeWith(best)).update;",
    to: "return { disconnected: [], connected: [] };",
    tests: [...LEDGER_TESTS, "tests/store_crash_inject_test.ts"],
  },
  {
    id: "store-spent",
    rule: "connecting a block deletes the spent coins on disk",
    file: "lib/chain/chain.ts",
    from: "      spent,\n      created: [...created],",
    to: "      spent: [],\n      created: [...created],",
    tests: STORE_TESTS,
  },
  {
    id: "store-restored",
    rule: "disconnecting a block restores the spent coins on disk",
    file: "lib/chain/chain.ts",
    from: "created: restored,",
    to: "created: [],",
    tests: STORE_TESTS,
  },
  // lib/net/discovery.ts
  {
    id: "dgram-at-start",
    rule: "a node loads node:dgram only when LAN discovery runs, not at every start",
    file: "lib/net/discovery.ts",
    from: 'import type dgram from "node:dgram";',
    to: 'import dgram from "node:dgram";',
    tests: ["tests/exports_test.ts"],
  },
  // lib/wallet/wallet.ts
  {
    id: "checked-wallet-same-file",
    rule: "open reuses the keys Wallet.check derived only for the file it checked",
    file: "lib/wallet/wallet.ts",
    from: "const checked = opts.checked?.path === path ? checkedKeys.get(opts.checked) : undefined;",
    to: "const checked = opts.checked ? checkedKeys.get(opts.checked) : undefined;",
    tests: ["tests/wallet_checked_test.ts"],
  },
  // lib/runtime/background.ts
  {
    id: "background-one-per-turn",
    rule: "background jobs (rescan, UTXO load, explorer index) take one slice per turn of the event loop",
    file: "lib/runtime/background.ts",
    from: "this.#waiting.shift()?.();",
    to: "for (const go of this.#waiting.splice(0)) go();",
    tests: ["tests/runtime_background_test.ts"],
  },
  {
    id: "background-held",
    rule: "a held Background gives no turn, also one asked for before the hold (a node's start holds them)",
    file: "lib/runtime/background.ts",
    from: "if (this.#holds > 0) return; // held after this turn was asked for: the release asks again",
    to: "",
    tests: ["tests/runtime_background_test.ts"],
  },
  {
    id: "background-release-once",
    rule: "each hold of a Background is released once: a second call does not lift another hold",
    file: "lib/runtime/background.ts",
    from: "if (released) return;",
    to: "",
    tests: ["tests/runtime_background_test.ts"],
  },
  {
    id: "coins-first-page-in-turn",
    rule: "the UTXO set's background load reads its first page in a turn of its own, not inside the start",
    file: "lib/chain/coin_set.ts",
    from:
      "      await background.turn();\n      if (this.#next === null || signal?.aborted) return;\n      this.#loadPage();",
    to:
      "      if (this.#next === null || signal?.aborted) return;\n      this.#loadPage();\n      await background.turn();",
    tests: ["tests/store_coins_background_test.ts"],
  },
  // lib/store/store.ts: the block index snapshot
  {
    id: "index-snapshot-hashes-checked",
    rule: "an index snapshot is used only when it holds the table's hashes, in rowid order",
    file: "lib/store/store.ts",
    from: "if (table.n !== s.count || table.hashes !== s.hashes) return undefined;",
    to: "if (table.n !== s.count) return undefined;",
    tests: ["tests/store_index_snapshot_test.ts"],
  },
  {
    id: "index-snapshot-tail-order",
    rule: "rows stored after the index snapshot are read in their place (height, then rowid), not after it",
    file: "lib/store/store.ts",
    from:
      "for (; !next.done && (next.value[1] < height || (next.value[1] === height && next.value[5] < rowid));) {",
    to: "for (; !next.done && next.value[1] < 0;) {",
    tests: ["tests/store_index_snapshot_test.ts"],
  },
  {
    id: "index-snapshot-at-stop",
    rule: "a node saves the block index snapshot at its stop",
    file: "lib/node.ts",
    from: "      this.chain.saveIndexSnapshot();",
    to: "",
    tests: ["tests/store_index_snapshot_test.ts"],
  },
  {
    id: "index-snapshot-after-start",
    rule: "a start that read many index rows one by one saves a snapshot in the background",
    file: "lib/node.ts",
    from: "if (store.indexRowsRead >= INDEX_SNAPSHOT_ROWS) {",
    to: "if (store.indexRowsRead < 0) {",
    tests: ["tests/store_index_snapshot_test.ts"],
  },
  // lib/chain/coin_set.ts
  {
    id: "coins-store-fallback",
    rule: "until the UTXO set is in memory, a coin the map lacks is asked of the store",
    file: "lib/chain/coin_set.ts",
    from: "if (coin !== undefined || this.#next === null) return coin;",
    to: "return coin;",
    tests: ["tests/store_coins_background_test.ts"],
  },
  {
    id: "coins-paying-before-load",
    rule: "until the UTXO set is in memory, a wallet's coins are asked of the store",
    file: "lib/chain/coin_set.ts",
    from: "if (this.#next !== null) return this.#source.coinsPaying(pubKeyHashes);",
    to: "",
    tests: ["tests/store_coins_background_test.ts"],
  },
  // lib/chain/mempool.ts
  {
    id: "mp-coinbase",
    rule: "mempool: a coinbase is refused",
    file: "lib/chain/mempool.ts",
    ...ensureTrue("!isCoinbase(tx)"),
  },
  {
    id: "mp-checktx",
    rule: "mempool: the context-free rules apply",
    file: "lib/chain/mempool.ts",
    from: "    checkTransaction(tx);\n    this.#validating.add(key);",
    to: "    this.#validating.add(key);",
  },
  {
    id: "mp-sigs",
    rule: "mempool: signatures are verified before acceptance",
    file: "lib/chain/mempool.ts",
    from: "await (early ?? checkSignatures(tx, id, { urgent, queue: q }));",
    to: "(early ?? checkSignatures(tx, id, { urgent, queue: q })).catch(() => {});",
  },
  {
    id: "mp-conflict",
    rule: "txn-mempool-conflict: first seen wins",
    file: "lib/chain/mempool.ts",
    ...ensureTrue("other === undefined"),
  },
  {
    id: "mp-recheck",
    rule: "mempool: re-checked when the chain or pool changed during the signature check",
    file: "lib/chain/mempool.ts",
    from: "if (tip !== this.#chain.tip || version !== this.#version) {",
    to: "if (false) {",
  },
  {
    id: "mp-recheck-removal",
    rule: "mempool: a removal during the signature check makes the inputs be checked again",
    file: "lib/chain/mempool.ts",
    from: "    this.#removals++;\n",
    to: "",
    tests: ["tests/chain_mempool_test.ts"],
  },
  {
    id: "mp-confirmed",
    rule: "mempool: a confirmed transaction leaves the pool alone, its children stay",
    file: "lib/chain/mempool.ts",
    from: "        if (e) this.#removeSet(new Set([e]));\n",
    to: "",
    tests: [...LEDGER_TESTS, "tests/chain_mempool_test.ts"],
  },
  {
    id: "mp-block-conflict",
    rule: "mempool: a transaction a block's transaction conflicts with leaves, with its descendants",
    file: "lib/chain/mempool.ts",
    from: "if (other) this.removeWithDescendants(other.txid);",
    to: "",
  },
  {
    id: "mp-readd",
    rule: "mempool: transactions of a disconnected block come back",
    file: "lib/chain/mempool.ts",
    from: "            restored.push(...await this.accept(tx));\n",
    to: "",
  },
  {
    id: "mp-reorg-inputs",
    rule: "mempool: after a reorg, transactions whose inputs are gone leave",
    file: "lib/chain/mempool.ts",
    from: "          this.removeWithDescendants(e.txid);\n        }\n      }\n    }",
    to: "        }\n      }\n    }",
  },
  {
    id: "mp-pool-coin-coinbase",
    rule: "mempool: an unconfirmed output is no coinbase (spendable at once)",
    file: "lib/chain/mempool.ts",
    from: "height: this.#chain.height + 1, coinbase: false",
    to: "height: this.#chain.height + 1, coinbase: true",
  },
  // lib/primitives
  {
    id: "read-bounds",
    rule: "decoders never read past their input",
    file: "lib/primitives/bytes.ts",
    from: "if (n > this.remaining) {",
    to: "if (false) {",
  },
  {
    id: "i64-exact",
    rule: "an amount a number cannot hold exactly is refused",
    file: "lib/primitives/bytes.ts",
    from: "if (v > MAX_SAFE || v < -MAX_SAFE) {",
    to: "if (false) {",
  },
  {
    id: "compactsize-canonical",
    rule: "CompactSize: the shortest encoding only",
    file: "lib/primitives/bytes.ts",
    from: "if (n < min) throw",
    to: "if (false) throw",
  },
  {
    id: "compactsize-max",
    rule: "CompactSize: counts above the caller's bound are refused",
    file: "lib/primitives/bytes.ts",
    from: "if (n > max) throw",
    to: "if (false) throw",
  },
  {
    id: "compactsize-64",
    rule: "CompactSize: 9-byte counts are refused",
    file: "lib/primitives/bytes.ts",
    from: "else throw new DecodeError(`${what}: 64-bit counts are not allowed`);",
    to: "else n = check(Number(this.#view.getBigUint64(this.#need(8, what), true)), 0, max, what);",
  },
  {
    id: "trailing-bytes",
    rule: "decoders refuse trailing bytes",
    file: "lib/primitives/bytes.ts",
    from: "if (this.remaining !== 0) throw",
    to: "if (false) throw",
  },
  {
    id: "header-length",
    rule: "a header is exactly 80 bytes",
    file: "lib/primitives/header.ts",
    from: "if (!(bytes instanceof Uint8Array) || bytes.length !== HEADER_SIZE) {",
    to: "if (!(bytes instanceof Uint8Array)) {",
  },
  {
    id: "tx-count-bound",
    rule: "input and output counts bounded by the bytes present",
    file: "lib/primitives/transaction.ts",
    from: "Math.min(MAX_TX_ITEMS, Math.floor(r.remaining / INPUT_SIZE))",
    to: "MAX_TX_ITEMS",
  },
  {
    id: "block-count-bound",
    rule: "the transaction count bounded by the bytes present",
    file: "lib/primitives/block.ts",
    from: 'r.compactSize(Math.floor(r.remaining / MIN_TX_SIZE), "transaction count")',
    to: 'r.compactSize(0xffffffff, "transaction count")',
  },
  {
    id: "txid-no-sigs",
    rule: "the txid leaves out the signatures (no malleability)",
    file: "lib/primitives/transaction.ts",
    from: "return toHexReversed(sha256dSync(serialize(tx, false)));",
    to: "return toHexReversed(sha256dSync(serialize(tx, true)));",
  },
  {
    id: "merkle-wtxid",
    rule: "the merkle root commits to wtxids (signatures included)",
    file: "lib/chain/block_rules.ts",
    from: "const wtxids = known?.wtxids ?? block.txs.map(wtxid);",
    to: "const wtxids = known?.wtxids ?? block.txs.map(txid);",
  },
  {
    id: "merkle-odd",
    rule: "merkle: an odd level pairs its last node with itself",
    file: "lib/primitives/merkle.ts",
    from: "pair.set(level[i + 1] ?? level[i], 32);",
    to: "pair.set(level[i + 1] ?? new Uint8Array(32), 32);",
  },
  // lib/store/store.ts
  {
    id: "store-split-commit",
    rule: "a block's store write is one commit (split in two here)",
    file: "lib/store/store.ts",
    from: "    if (change.undo) this.#q.putUndo.run(change.hash, change.undo);",
    to: '    this.#db.exec("COMMIT");\n    this.#db.exec("BEGIN IMMEDIATE");\n' +
      "    if (change.undo) this.#q.putUndo.run(change.hash, change.undo);",
    tests: STORE_TESTS,
  },
  {
    id: "store-block-outside",
    rule: "a new tip's block is written in the commit that connects it",
    file: "lib/store/store.ts",
    from: "    this.#transaction(() => {\n      for (const change of changes) this.#apply(change);",
    to: "    for (const c of changes) if (c.block) this.putBlock(c.block.row, c.block.data);\n" +
      "    this.#transaction(() => {\n      for (const change of changes) this.#apply(change);",
    tests: STORE_TESTS,
  },
  {
    id: "store-undo",
    rule: "connecting a block stores its undo data",
    file: "lib/store/store.ts",
    from: "if (change.undo) this.#q.putUndo.run(change.hash, change.undo);",
    to: "if (change.undo) void 0;",
    tests: STORE_TESTS,
  },
  {
    id: "store-tip",
    rule: "the tip is stored with the block that makes it",
    file: "lib/store/store.ts",
    from: '    this.#q.setMeta.run("tip", change.tip);\n  }\n\n  /** Writes a new',
    to: "  }\n\n  /** Writes a new",
    tests: STORE_TESTS,
  },
  {
    id: "store-rollback",
    rule: "a failed store write changes nothing",
    file: "lib/store/store.ts",
    from: '        this.#db.exec("ROLLBACK");',
    to: '        this.#db.exec("COMMIT");',
    tests: STORE_TESTS,
  },
  // Write-behind (issue 22): connected blocks commit behind their relay, several per transaction.
  {
    id: "store-batch-one-commit",
    rule: "blocks committed together are one transaction: a crash leaves all of them or none",
    file: "lib/store/store.ts",
    from: "    this.#transaction(() => {\n      for (const change of changes) this.#apply(change);\n    });",
    to: "    for (const change of changes) this.#transaction(() => this.#apply(change));",
    tests: ["tests/store_crash_inject_test.ts"],
  },
  {
    id: "write-behind-served",
    rule: "a connected block waiting for its commit is served as a stored one",
    file: "lib/chain/chain.ts",
    from: " ?? this.#unflushedBlocks.get(hash)?.data",
    to: "",
    tests: ["tests/chain_write_behind_test.ts"],
  },
  {
    id: "write-behind-timer",
    rule: "waiting blocks commit within FLUSH_AFTER_MS",
    file: "lib/chain/chain.ts",
    from: "    }, FLUSH_AFTER_MS);",
    to: "    }, 100 * FLUSH_AFTER_MS);",
    tests: ["tests/chain_write_behind_test.ts"],
  },
  {
    id: "write-behind-bound",
    rule: "at most MAX_UNFLUSHED_BLOCKS connected blocks wait for their commit",
    file: "lib/chain/chain.ts",
    from: "this.#unflushed.length >= MAX_UNFLUSHED_BLOCKS",
    to: "this.#unflushed.length > MAX_UNFLUSHED_BLOCKS",
    tests: ["tests/chain_write_behind_test.ts"],
  },
  {
    id: "write-behind-before-disconnect",
    rule: "a reorg commits the waiting blocks before it reads their undo data",
    file: "lib/chain/chain.ts",
    from: "      if (fork !== this.tip) this.flush();",
    to: "",
    tests: ["tests/chain_write_behind_test.ts"],
  },
  {
    id: "write-behind-active-blocks",
    rule: "activeBlocks reads the blocks waiting for their commit too",
    file: "lib/chain/chain.ts",
    from: "    this.flush(); // what the store lacks: one commit, then one read path",
    to: "",
    tests: ["tests/chain_write_behind_test.ts"],
  },
  {
    id: "write-behind-after-coins-load",
    rule: "write-behind waits until the UTXO set is in memory (the store answers for it until then)",
    file: "lib/chain/chain.ts",
    from: "if (this.#writeBehind && this.#coins.loaded) this.#defer(",
    to: "if (this.#writeBehind) this.#defer(",
    tests: ["tests/chain_write_behind_test.ts"],
  },
  {
    id: "write-behind-own-block",
    rule: "a block the node mined is committed before it is relayed (no peer may have it yet)",
    file: "lib/node.ts",
    from: '    this.#commit();\n    await this.#afterChainUpdate(r.update, "local");',
    to: '    await this.#afterChainUpdate(r.update, "local");',
    tests: ["tests/node_store_failure_test.ts"],
  },
  {
    id: "index-txids-carried",
    rule:
      "the explorer's index takes a block's txids from the chain instead of hashing its transactions again",
    file: "lib/explorer/chain_index.ts",
    from: "const ids = this.#chain.txidsOf?.(block);",
    to: "const ids = undefined as string[] | undefined;",
    tests: ["tests/explorer_test.ts"],
  },
  {
    id: "write-behind-node-stop",
    rule: "a node's stop commits the blocks that wait for their commit",
    file: "lib/node.ts",
    from: "      this.chain.close(); // the blocks that wait for their commit",
    to: "",
    tests: ["tests/node_store_failure_test.ts"],
  },
  // lib/net/overlay.ts and network.ts: the super-peer overlay (issue 10)
  {
    id: "full-points-to-room",
    rule: "a full SuperPeer points a newcomer only to SuperPeers with room",
    file: "lib/net/overlay.ts",
    from: "s.others.filter((e) => hasRoom(e) && !s.skip?.includes(e.nodeId))",
    to: "s.others.filter((e) => !s.skip?.includes(e.nodeId))",
    tests: OVERLAY_TESTS,
  },
  {
    id: "demote-idle-long",
    rule: "a SuperPeer steps down only after DEMOTE_AFTER_MS idle",
    file: "lib/net/overlay.ts",
    from: "  if (s.now - s.idleSince < DEMOTE_AFTER_MS * (1 + random() / 2)) return false;\n",
    to: "",
    tests: OVERLAY_TESTS,
  },
  {
    id: "demote-step",
    rule: "idle SuperPeers step down: the overlay shrinks back",
    file: "lib/net/superpeer.ts",
    from: ') this.#h.demote("idle, with SuperPeers of its own: stepping down");',
    to: ") void 0;",
    tests: OVERLAY_TESTS,
  },
  {
    id: "full-skips-asker",
    rule: "a full SuperPeer never points a node to itself, nor a Peer to the SuperPeer it holds",
    file: "lib/net/superpeer.ts",
    from: "skip: holds === undefined ? [entryOf(link).nodeId] : [entryOf(link).nodeId, holds],",
    to: "skip: [],",
    tests: OVERLAY_TESTS,
  },
  {
    id: "join-follow-room",
    rule: "a joiner follows the SuperPeers with room it is pointed to before it adds capacity",
    file: "lib/net/joining.ts",
    from: "if (!r.try.length || pointed.has(a)) refusals.push(r.by);",
    to: "refusals.push(r.by);",
    tests: [...OVERLAY_TESTS, ...WIRING_TESTS],
  },
  {
    id: "welcome-roster",
    rule:
      "a welcome carries the roster so far, so Peers that lose their SuperPeers at once agree on a successor",
    file: "lib/net/superpeer.ts",
    from: "    this.#sendWelcome(link, this.#roster);",
    to: "    this.#sendWelcome(link, this.#rosterShared ? this.#roster : []);",
    tests: OVERLAY_TESTS,
  },
  {
    id: "demote-two-roomy",
    rule: "a SuperPeer steps down only while two others it holds say they have room (a claim may veto only)",
    file: "lib/net/overlay.ts",
    from: "l.roomy !== false",
    to: "true",
    tests: OVERLAY_TESTS,
  },
  // Overlay v3 (issue 19): evidence decides, claims only break ties.
  {
    id: "demote-never-serving",
    rule: "a SuperPeer never steps down while it serves Peers",
    file: "lib/net/overlay.ts",
    from: "if (s.load > 0 || s.idleSince === undefined) return false;",
    to: "if (s.idleSince === undefined) return false;",
    tests: OVERLAY_TESTS,
  },
  {
    id: "demote-held-long",
    rule: "an idle SuperPeer steps down only after holding links to two others for DEMOTE_AFTER_MS",
    file: "lib/net/overlay.ts",
    from: "const held = s.mesh.filter((l) => s.now - l.since >= DEMOTE_AFTER_MS);",
    to: "const held = s.mesh;",
    tests: OVERLAY_TESTS,
  },
  {
    id: "demote-two-hosts",
    rule: "where its links come from two hosts, the two SuperPeers it held must be on two hosts",
    file: "lib/net/overlay.ts",
    from: "  return new Set(held.map((l) => hostGroup(l.host))).size >= DEMOTE_MIN_OTHERS;",
    to: "  return true;",
    tests: OVERLAY_TESTS,
  },
  {
    id: "host-group-64",
    rule: "an IPv6 host is its /64",
    file: "lib/net/address.ts",
    from: "words.slice(0, 4)",
    to: "words",
    tests: OVERLAY_TESTS,
  },
  {
    id: "turned-away-two-keys",
    rule: "a joiner promotes only on refusals by two distinct proven keys (or by every SuperPeer it reached)",
    file: "lib/net/overlay.ts",
    from: "if (keys.size < TURNED_AWAY_AFTER) return false;",
    to: "if (keys.size < 1) return false;",
    tests: OVERLAY_TESTS,
  },
  {
    id: "second-greeted-first",
    rule: "a Peer's second is chosen by evidence first (greeted before), claimed room only breaks ties",
    file: "lib/net/overlay.ts",
    from: "(evidence.greeted?.(c.listen) ? 0 : 4)",
    to: "0",
    tests: OVERLAY_TESTS,
  },
  // Joining against Sybil SuperPeers, and a Peer's watch over its two SuperPeers (issues 19 and 22).
  {
    id: "second-other-host",
    rule: "a Peer's backup is never on its primary's host while another host is known (loopback aside)",
    file: "lib/net/overlay.ts",
    from: "  if (elsewhere) open = open.filter((c) => !sameHost(c.listen));\n",
    to: "",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "second-own-book",
    rule: "a Peer weighs its own book (tracker, greeted) beside its primary's entries for the backup",
    file: "lib/net/overlay.ts",
    from: "...(evidence.ownBook ?? []).filter(",
    to: "...(evidence.ownBook ?? []).slice(0, 0).filter(",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "second-served-first",
    rule: "a Peer's backup: one that delivered to it before one merely greeted",
    file: "lib/net/overlay.ts",
    from: "(evidence.served?.(c.listen) ? 0 : 8)",
    to: "0",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "full-points-one-per-host",
    rule: "a full SuperPeer names at most one SuperPeer per host",
    file: "lib/net/overlay.ts",
    from: "    if (hosts.has(h) && !isLoopback(hostOf(e.listen))) continue;\n",
    to: "",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "full-points-delivered-first",
    rule: "a full SuperPeer names those whose mesh link delivered blocks before those that only claim room",
    file: "lib/net/overlay.ts",
    from: "const seen = (e: SuperPeerEntry) => s.delivered?.(e) ? 0 : 1;",
    to: "const seen = (_: SuperPeerEntry) => 0;",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "frozen-primary-swap",
    rule: "a primary silent past FROZEN_SILENT_MS while the backup answers is swapped at once",
    file: "lib/net/overlay.ts",
    from:
      '  if (primary.silentMs >= FROZEN_SILENT_MS && backup.silentMs < FROZEN_SILENT_MS) return "swap";\n',
    to: "",
    tests: ["tests/net_overlay_rules_test.ts", "tests/net_delivery_test.ts"],
  },
  {
    id: "frozen-needs-backup",
    rule: "silence alone never swaps: the backup must have answered",
    file: "lib/net/overlay.ts",
    from: "primary.silentMs >= FROZEN_SILENT_MS && backup.silentMs < FROZEN_SILENT_MS",
    to: "primary.silentMs >= FROZEN_SILENT_MS",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "replace-non-delivering",
    rule: "a SuperPeer that misses blocks the other delivered is replaced",
    file: "lib/net/overlay.ts",
    from: '  if (out(backup) && primary.misses === 0) return "replace-backup";\n',
    to: "",
    tests: ["tests/net_overlay_rules_test.ts", "tests/net_delivery_test.ts"],
  },
  {
    id: "swap-confirmed",
    rule: "a frozen primary swaps only once the backup answered a ping sent after the judgement",
    file: "lib/net/delivery.ts",
    from: '    if (verdict === "swap") return this.#confirmSwap(p.backup, now);\n',
    to: '    if (verdict === "swap") return "swap";\n',
    tests: ["tests/net_delivery_test.ts"],
  },
  {
    id: "stale-tip-check",
    rule: "a Peer with no new block for STALE_TIP_MS tries another SuperPeer of its own book",
    file: "lib/net/delivery.ts",
    from: "    this.#lastStaleTry = now;\n    return true;",
    to: "    this.#lastStaleTry = now;\n    return false;",
    tests: ["tests/net_delivery_test.ts"],
  },
  {
    id: "stale-tip-trial",
    rule: "a SuperPeer the stale-tip check tried is kept only once it delivered a block this node lacked",
    file: "lib/net/peer_side.ts",
    from: '    if (!(await this.#watch.trial(link))) return "failed";\n',
    to: "",
    tests: ["tests/net_stale_tip_test.ts"],
  },
  {
    id: "stale-refusal-delivered",
    rule:
      "a full SuperPeer's refusal counts for a stale-tip promotion only if it delivered blocks to this node",
    file: "lib/net/joining.ts",
    from: 'a.kind === "full" && (this.#h.book.hasDelivered(addr) || starved) &&',
    to: 'a.kind === "full" &&',
    tests: ["tests/net_stale_tip_test.ts"],
  },
  {
    id: "stale-starved-counts",
    rule:
      "a Peer no SuperPeer ever delivered to counts full claimants of a higher tip (captured from its start)",
    file: "lib/net/joining.ts",
    from: "(this.#h.book.hasDelivered(addr) || starved)",
    to: "this.#h.book.hasDelivered(addr)",
    tests: ["tests/net_delivery_test.ts"],
  },
  {
    id: "stale-tip-order",
    rule: "the stale-tip check asks where blocks came from first, then its own book, then signed entries",
    file: "lib/net/overlay.ts",
    from: "(evidence.delivered(a) ? 0 : own.has(a) ? 1 : 2)",
    to: "0",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "mesh-own-choice",
    rule:
      "once blocks flow, a SuperPeer dials SuperPeers of its own choice while it holds too few it chose or that relay",
    file: "lib/net/overlay.ts",
    from: "const ownShort = evidence ? MESH_OUTBOUND_MIN - proven.size : 0;",
    to: "const ownShort = 0;",
    tests: ["tests/net_overlay_rules_test.ts", "tests/net_sim_sybil_test.ts"],
  },
  {
    id: "mesh-keep-chosen",
    rule: "the mesh surplus closed is never a link of its own choice nor one that relays blocks",
    file: "lib/net/overlay.ts",
    from: "const spare = linked.filter((id) => !kept.has(id));",
    to: "const spare = [...linked];",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "mesh-chosen-stale",
    rule:
      "a mesh link it chose that relayed no block frame after a block came over the mesh no longer counts as its choice",
    file: "lib/net/overlay.ts",
    from: "l.relayed || newestBlock <= l.since + MESH_RELAY_GRACE_MS",
    to: "true",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "demote-beside-relay",
    rule: "once blocks came over its mesh, an idle SuperPeer steps down only beside a link that relays them",
    file: "lib/net/overlay.ts",
    from: "  if (s.blocksFlow && !s.mesh.some((l) => l.relayed)) return false;\n",
    to: "",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "lags-behind",
    rule: "a Peer's SuperPeer that said its tip was behind ours and relayed nothing within the grace lags",
    file: "lib/net/overlay.ts",
    from: "return v.claimedWork < v.tipWork && v.linkedMs >= BEHIND_GRACE_MS && !v.relayed;",
    to: "return false;",
    tests: ["tests/net_overlay_rules_test.ts", "tests/net_sim_sybil_test.ts"],
  },
  {
    id: "wired-lagging-replaced",
    rule: "a Peer replaces a lagging SuperPeer (the backup first)",
    file: "lib/net/peer_side.ts",
    from: '      link.conn.close("behind our tip, and relayed no block");\n',
    to: "",
    tests: ["tests/net_sim_sybil_test.ts"],
  },
  {
    id: "replace-never-relayed",
    rule: "a SuperPeer that never sent a block frame since we took it is replaced after one miss",
    file: "lib/net/overlay.ts",
    from: "v.misses >= (v.relayed === false ? 1 : REPLACE_AFTER_MISSES)",
    to: "v.misses >= REPLACE_AFTER_MISSES",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "wired-mesh-relayed",
    rule: "a mesh link's block frames of any kind are noted as relaying",
    file: "lib/net/peer_side.ts",
    from: 'else if (s.kind === "mesh") s.relayedAt = this.#h.clock.now();',
    to: 'else if (s.kind === "mesh") void 0;',
    tests: ["tests/net_sim_sybil_test.ts"],
  },
  {
    id: "wired-never-relayed",
    rule: "the delivery watch tells the judge whether a SuperPeer ever sent a block frame",
    file: "lib/net/delivery.ts",
    from: "relayed: s.blockAt > 0",
    to: "relayed: true",
    tests: ["tests/net_sim_sybil_test.ts", "tests/net_delivery_test.ts"],
  },
  {
    id: "join-dial-budget",
    rule:
      "a joining node dials addresses named in answers within the dial budget (no redirect storm, no reflector)",
    file: "lib/net/joining.ts",
    from: "return addrs.filter((a) => this.#answerDials.take(normalizeAddress(a) ?? a, now));",
    to: 'return addrs.filter((a) => this.#answerDials && now >= 0 && a !== "");',
    tests: ["tests/net_join_budget_test.ts"],
  },
  {
    id: "failover-bounded",
    rule: "failover dials greeted SuperPeers first and a bounded sample of hearsay",
    file: "lib/net/overlay.ts",
    from: "sample(entries.filter((e) => !greeted(e)), max - first.length, random)",
    to: "entries.filter((e) => !greeted(e))",
    tests: OVERLAY_TESTS,
  },
  {
    id: "entry-signed",
    rule: "a directory entry counts only when signed by the SuperPeer it describes",
    file: "lib/net/gossip.ts",
    from: "if (!e.sig || !await this.#checkSig(e.nodeId, e.sig, entryMessage(e))) {",
    to: "if (false) {",
    tests: ["tests/net_directory_test.ts"],
  },
  {
    id: "dirsum-differing-only",
    rule: "a mesh link's summary is answered with a digest of only the buckets that differ, once per link",
    file: "lib/net/gossip.ts",
    from: "const differing = this.#dir.inBuckets(this.#dir.differing(buckets), count);",
    to: "const differing = this.#dir.entries();",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dirsum-once-per-link",
    rule: "a mesh link's summary is answered once",
    file: "lib/net/gossip.ts",
    from: "if (this.#summaryAnswered.has(link)) return;",
    to: "",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dirsum-staggered",
    rule: "new mesh links get this node's summary one at a time, DIR_SYNC_GAP_MS apart",
    file: "lib/net/gossip.ts",
    from: "this.#syncAt = now + DIR_SYNC_GAP_MS;",
    to: "",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dirsum-claims",
    rule: "a directory's summary changes with what an entry claims (room), not only with its id",
    file: "lib/net/directory.ts",
    from: "return fnv1a(`${e.nodeId} ${e.listen} ${e.capacity} ${e.load < e.capacity} ${e.load === 0}`);",
    to: "return fnv1a(e.nodeId);",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dir-announce-once-per-link",
    rule:
      "past a full mesh, an entry version is announced on a link once, never back to a link that announced it",
    file: "lib/net/gossip.ts",
    from: "if (this.#known.knows(link, e.nodeId, e.seq)) return false;",
    to: "",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dir-sync-not-news",
    rule: "what a node pulls from a summary's answer is what it missed, not news: it goes no further",
    file: "lib/net/gossip.ts",
    from: "const caughtUp = this.#wants.done(e.nodeId);",
    to: "const caughtUp = this.#wants.done(e.nodeId) && false;",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dir-sync-marked",
    rule: "a digest answering a summary says so (sync), so what is pulled from it is not flooded again",
    file: "lib/net/gossip.ts",
    from: "...(sync ? { sync } : {}),",
    to: "",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dirsum-buckets-by-size",
    rule:
      "a summary has one bucket per two entries (a power of two within bounds), so a small difference offers little",
    file: "lib/net/directory.ts",
    from: "while (b < DIR_SUM_BUCKETS_MAX && 2 * b < size) b *= 2;",
    to: "",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dir-idle-one-hop",
    rule:
      "past a full mesh, a new SuperPeer that serves no Peer is news to its neighbours only, until it serves",
    file: "lib/net/directory.ts",
    from: ": own || entry.load > 0) ||",
    to: ": true) ||",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dir-idle-starts-serving",
    rule: "an idle SuperPeer that starts serving is news for every SuperPeer",
    file: "lib/net/directory.ts",
    from: "changedPlace(old.entry, entry) || startsServing(old.entry, entry)",
    to: "changedPlace(old.entry, entry)",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "room-one-hop",
    rule: "another SuperPeer's room appearing or running out is kept, not forwarded: it travels one hop",
    file: "lib/net/directory.ts",
    from: ": changedPlace(old.entry, entry) || startsServing(old.entry, entry)",
    to: ": changedClaims(old.entry, entry) || startsServing(old.entry, entry)",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "member-refresh-own",
    rule: "a Peer hears its SuperPeer's own entry with a refresh only every DIR_REFRESH_MS",
    file: "lib/net/gossip.ts",
    from: "const own = now - this.#ownToMembersAt >= DIR_REFRESH_MS ?",
    to: "const own = true ?",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "dir-expiry-bound",
    rule: "an entry merged after the last expiry scan still expires DIR_TTL_MS after its refresh",
    file: "lib/net/directory.ts",
    from: "this.#nextExpiry = Math.min(this.#nextExpiry, now + DIR_TTL_MS);",
    to: "",
    tests: ["tests/net_dir_gossip_test.ts"],
  },
  {
    id: "removal-signed",
    rule: "only a SuperPeer can withdraw its own directory entry",
    file: "lib/net/gossip.ts",
    from: "if (!sig || !await this.#checkSig(nodeId, sig, removalMessage(nodeId, seq))) {",
    to: "if (false) {",
    tests: ["tests/net_directory_test.ts"],
  },
  {
    id: "redial-interval",
    rule: "no address is dialled for a mesh link again within MESH_REDIAL_MS",
    file: "lib/net/dial_budget.ts",
    from: "if (last !== undefined && now - last < this.#redialMs) return false;",
    to: "",
    tests: OVERLAY_TESTS,
  },
  {
    id: "dial-rate",
    rule: "mesh dials have a global rate",
    file: "lib/net/dial_budget.ts",
    from: "if (this.#tokens < 1) return false;\n    this.#tokens--;\n    this.#last.delete(addr);",
    to: "this.#tokens--;\n    this.#last.delete(addr);",
    tests: OVERLAY_TESTS,
  },
  {
    id: "entry-budget",
    rule: "a link's directory entries are checked within its budget; the surplus is dropped unread",
    file: "lib/net/gossip.ts",
    from: "    const n = b.charge(items, now);\n",
    to: "    const n = items.length;\n",
    tests: [
      "tests/net_flood_failover_test.ts",
      "tests/net_dir_gossip_test.ts",
      "tests/net_sim_sybil_test.ts",
    ],
  },
  {
    id: "mesh-evictable",
    rule: "a full SuperPeer evicts an idle inbound mesh link for a newcomer (loopback too)",
    file: "lib/net/handshake.ts",
    from: "const victim = idle ?? this.#meshVictim();",
    to: "const victim = idle;",
    tests: ["tests/net_budget_test.ts"],
  },
  {
    id: "proof-checked",
    rule: "a link's node id is proven: a bad proof is refused",
    file: "lib/net/link.ts",
    from: "    if (!ok) {",
    to: "    if (ok === null) {",
    tests: ["tests/net_identity_test.ts"],
  },
  {
    id: "successor-alive",
    rule: "the successor of a lost only SuperPeer is not one known dead",
    file: "lib/net/overlay.ts",
    from: "return roster.find((p) => !dead.has(p.nodeId));",
    to: "return roster[0];",
    tests: OVERLAY_TESTS,
  },
  // lib/mining/kernel.wasm: the nonce of SIMD lane 3 is n + 4 instead of n + 3 (both inlined copies of hash4).
  // Error paths of two-part updates (issue 25): a store write that fails, then what memory holds.
  {
    id: "fail-index-before-store",
    rule: "a side block is known in memory only once the store has it",
    file: "lib/chain/chain.ts",
    from: "else this.#store.putBlock(row, data);\n    this.#index.set(hash, entry);",
    to:
      "else {\n      this.#index.set(hash, entry);\n      this.#store.putBlock(row, data);\n    }\n    this.#index.set(hash, entry);",
    tests: FAILURE_TESTS,
  },
  {
    id: "fail-held-back-known",
    rule: "a held-back block whose write fails is forgotten, so a resend is taken afresh",
    file: "lib/chain/chain.ts",
    from: "this.#index.delete(hash); // not on disk: not known either, so a peer's resend is taken afresh",
    to: "",
    tests: FAILURE_TESTS,
  },
  {
    id: "fail-partial-update",
    rule: "a call that throws mid-reorg hands what it changed to the caller (the mempool follows it)",
    file: "lib/chain/chain.ts",
    from: "partialUpdates.set(error, net);",
    to: "",
    tests: FAILURE_TESTS,
  },
  {
    id: "fail-status-memory-first",
    rule: "a failed block's status changes in memory only once the store has it",
    file: "lib/chain/chain.ts",
    from:
      "this.#store.setStatus(e.hash, e.status | BlockStatus.FAILED);\n      e.status |= BlockStatus.FAILED;",
    to: "e.status |= BlockStatus.FAILED;\n      this.#store.setStatus(e.hash, e.status);",
    tests: FAILURE_TESTS,
  },
  {
    id: "fail-begin-raw",
    rule: "a transaction that cannot begin (busy, full) is a StoreError like any failed write",
    file: "lib/store/store.ts",
    from: '    try {\n      this.#db.exec("BEGIN IMMEDIATE");',
    to: '    this.#db.exec("BEGIN IMMEDIATE");\n    try {',
    tests: FAILURE_TESTS,
  },
  {
    id: "fail-retry-best",
    rule: "after a failed store write the next activation aims at the best valid block, not only the new one",
    file: "lib/chain/chain.ts",
    from: "if (!(error instanceof ValidationError)) this.#activationFailed = true;",
    to: "",
    tests: FAILURE_TESTS,
  },
  {
    id: "fail-retry-blame",
    rule:
      "a block of the best chain that fails during a retry after a store failure is not blamed on the new block",
    file: "lib/chain/chain.ts",
    from: "      if (!(e instanceof ValidationError)) throw e;\n    }\n  }\n\n  /** Moves the tip",
    to: "      throw e;\n    }\n  }\n\n  /** Moves the tip",
    tests: FAILURE_TESTS,
  },
  {
    id: "ban-flush-retry",
    rule: "bans file: after a failed write, flush writes what memory holds again",
    file: "lib/net/ban.ts",
    from: "    if (this.#saveError) {\n      this.#save();\n      await this.#saving.idle();\n    }\n",
    to: "",
    tests: ["tests/net_ban_failure_test.ts", ...WRITE_FAULT_TESTS],
  },
  {
    id: "tracker-write-retry",
    rule: "tracker file: a failed write is not taken for written; flush writes the address book again",
    file: "lib/net/address_book.ts",
    from: 'if (this.#lastWritten === text) this.#lastWritten = "";',
    to: "",
    tests: ["tests/net_ban_failure_test.ts", ...WRITE_FAULT_TESTS],
  },
  // Wiring (issue 25): the bound a pool runs with is the one the table names.
  {
    id: "wire-mempool-orphans",
    rule: "wiring: the mempool's orphan pool gets the caller's options, else the policy's bounds",
    file: "lib/chain/mempool.ts",
    from: "this.#orphans = new OrphanTxs(opts.orphans);",
    to: "this.#orphans = new OrphanTxs({ maxCount: 2 * MAX_ORPHAN_TXS, ...opts.orphans });",
    tests: BOUND_TESTS,
  },
  {
    id: "wire-chain-orphan-count",
    rule: "wiring: a chain opened without options keeps MAX_ORPHAN_BLOCKS orphans",
    file: "lib/chain/chain.ts",
    from: "this.#maxOrphans = opts.maxOrphans ?? MAX_ORPHAN_BLOCKS;",
    to: "this.#maxOrphans = opts.maxOrphans ?? MAX_ORPHAN_BLOCKS + 1;",
    tests: BOUND_TESTS,
  },
  {
    id: "wire-chain-orphan-bytes",
    rule: "wiring: a chain opened without options keeps MAX_ORPHAN_BLOCK_BYTES of orphans",
    file: "lib/chain/chain.ts",
    from: "this.#maxOrphanBytes = opts.maxOrphanBytes ?? MAX_ORPHAN_BLOCK_BYTES;",
    to: "this.#maxOrphanBytes = opts.maxOrphanBytes ?? MAX_ORPHAN_BLOCK_BYTES - 1;",
    tests: BOUND_TESTS,
  },
  {
    id: "wire-address-book-max",
    rule: "wiring: an address book made without a bound keeps ADDRESS_BOOK_MAX",
    file: "lib/net/address_book.ts",
    from: "max = ADDRESS_BOOK_MAX",
    to: "max = TRACKER_MAX",
    tests: BOUND_TESTS,
  },
  // Bounds at N−1, N, N+1 (issue 25): off-by-one plants.
  {
    id: "bound-orphan-blocks",
    rule: "orphan blocks: at most MAX_ORPHAN_BLOCKS (count)",
    file: "lib/chain/chain.ts",
    from: "this.#orphans.size >= this.#maxOrphans",
    to: "this.#orphans.size > this.#maxOrphans",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-orphan-block-bytes",
    rule: "orphan blocks: at most MAX_ORPHAN_BLOCK_BYTES (bytes)",
    file: "lib/chain/chain.ts",
    from: "this.#orphanBytes + bytes.length > this.#maxOrphanBytes",
    to: "this.#orphanBytes + bytes.length >= this.#maxOrphanBytes",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-orphan-block-huge",
    rule: "an orphan larger than the pool pushes nothing out",
    file: "lib/chain/chain.ts",
    from: "    if (bytes.length > this.#maxOrphanBytes) return; // never fits: it pushes nothing out\n",
    to: "",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-orphan-txs",
    rule: "orphan transactions: at most MAX_ORPHAN_TXS (count)",
    file: "lib/chain/orphan_txs.ts",
    from: "this.#byKey.size >= this.#maxCount",
    to: "this.#byKey.size > this.#maxCount",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-orphan-tx-bytes",
    rule: "orphan transactions: at most MAX_ORPHAN_TX_BYTES (bytes)",
    file: "lib/chain/orphan_txs.ts",
    from: "this.#bytes + size > this.#maxBytes",
    to: "this.#bytes + size >= this.#maxBytes",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-orphan-tx-size",
    rule: "an orphan transaction is at most MAX_STANDARD_TX_SIZE bytes",
    file: "lib/chain/orphan_txs.ts",
    from: "if (size > Math.min(MAX_STANDARD_TX_SIZE, this.#maxBytes)) return false;",
    to: "if (size > Math.min(MAX_STANDARD_TX_SIZE + 1, this.#maxBytes)) return false;",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-mempool-bytes",
    rule: "mempool: at most maxBytes (a newcomer filling it exactly fits)",
    file: "lib/chain/mempool.ts",
    from: "this.#bytes - freed + size <= this.maxBytes && this.#entries.size",
    to: "this.#bytes - freed + size < this.maxBytes && this.#entries.size",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-fee-equal",
    rule: "mempool-full: an equal fee rate evicts nothing",
    file: "lib/chain/mempool.ts",
    from: "if (e.feeRate >= feeRate) break;",
    to: "if (e.feeRate > feeRate) break;",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-ancestors",
    rule: "mempool: at most MAX_ANCESTORS unconfirmed ancestors",
    file: "lib/chain/mempool.ts",
    from: "ancestors.size < MAX_ANCESTORS,",
    to: "ancestors.size <= MAX_ANCESTORS,",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-ancestor-bytes",
    rule: "mempool: at most MAX_ANCESTOR_BYTES of a newcomer and its ancestors (exactly N accepted)",
    file: "lib/chain/mempool.ts",
    from: "ancestorSize <= MAX_ANCESTOR_BYTES,",
    to: "ancestorSize < MAX_ANCESTOR_BYTES,",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-descendant-bytes",
    rule: "mempool: at most MAX_DESCENDANT_BYTES under one transaction (exactly N accepted)",
    file: "lib/chain/mempool.ts",
    from: "a.descendantSize + size <= MAX_DESCENDANT_BYTES",
    to: "a.descendantSize + size < MAX_DESCENDANT_BYTES",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-descendants",
    rule: "mempool: at most MAX_DESCENDANTS under one transaction",
    file: "lib/chain/mempool.ts",
    from: "a.descendantCount < MAX_DESCENDANTS",
    to: "a.descendantCount <= MAX_DESCENDANTS",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-bans",
    rule: "ban list: at most maxEntries hosts",
    file: "lib/net/ban.ts",
    from: "this.#entries.size <= this.#max",
    to: "this.#entries.size < this.#max",
    count: 3,
    tests: BOUND_TESTS,
  },
  {
    id: "bound-address-book",
    rule: "address book: at most ADDRESS_BOOK_MAX addresses",
    file: "lib/net/address_book.ts",
    from: "this.#entries.size <= this.#max",
    to: "this.#entries.size < this.#max",
    count: 2,
    tests: BOUND_TESTS,
  },
  {
    id: "bound-frame-read",
    rule: "a frame read is at most MAX_FRAME bytes",
    file: "lib/net/frame.ts",
    from: "if (len > MAX_FRAME) {",
    to: "if (len >= MAX_FRAME) {",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-frame-write",
    rule: "a frame written is at most MAX_FRAME bytes",
    file: "lib/net/frame.ts",
    from: "if (body > MAX_FRAME) throw",
    to: "if (body >= MAX_FRAME) throw",
    tests: BOUND_TESTS,
  },
  {
    id: "verify-start-in-thread",
    rule:
      "verify pool: while no worker has started, checks past each worker's first batch run in this thread",
    file: "lib/crypto/verify_pool.ts",
    from: "if (this.#answered === 0 && this.#slots.every((s) => s.held > 0)) {",
    to: "if (this.#answered < 0 && this.#slots.every((s) => s.held > 0)) {",
    tests: ["tests/crypto_verify_pool_test.ts"],
  },
  {
    id: "compact-sender-held-ids",
    rule:
      "compact relay: the sender takes a held block and its checked wtxids from the chain (no decode, no hash)",
    file: "lib/node/compact.ts",
    from: "        if (held) return encodeCompactBlock(compactBlock(held, nonce, chain.wtxidsOf(held)));\n",
    to: "",
    tests: ["tests/net_compact_test.ts"],
  },
  {
    id: "known-ids-taken",
    rule: "a block's txids handed in (knownIds: a rebuilt block's) are taken, not hashed again",
    file: "lib/chain/block_rules.ts",
    from: "const ids = known?.txids ?? block.txs.map(txid);",
    to: "const ids = block.txs.map(txid);",
    tests: ["tests/chain_rules_block_test.ts", "tests/net_compact_test.ts"],
  },
  {
    id: "known-ids-merkle",
    rule: "bad-txnmrklroot: the merkle root is checked over the wtxids handed in (knownIds)",
    file: "lib/chain/block_rules.ts",
    from: "const wtxids = known?.wtxids ?? block.txs.map(wtxid);",
    to: "const wtxids = block.txs.map(wtxid);",
    tests: ["tests/chain_rules_block_test.ts", "tests/net_compact_test.ts"],
  },
  {
    id: "rebuilt-ids-passed",
    rule: "a node hands a rebuilt block's ids to the chain (speed only)",
    file: "lib/node.ts",
    from: "{ requested, knownIds: rebuilt?.ids }",
    to: "{ requested }",
    tests: ["tests/net_compact_test.ts"],
    equivalent:
      "speed only: without the ids the chain hashes the same ids again; bench relay's relay_hop_warm_p50_ms shows it",
  },
  {
    id: "compact-rebuilt-same-bytes",
    rule: "compact relay: a rebuilt block is handed on only to its very bytes (others are decoded)",
    file: "lib/node/compact.ts",
    from: "return r?.bytes === bytes ? { block: r.block, ids: r.ids } : undefined;",
    to: "return r && { block: r.block, ids: r.ids };",
    tests: ["tests/net_compact_test.ts"],
  },
  {
    id: "compact-merkle-memo",
    rule: "compact relay: the rebuilt block's merkle check hashes through the mempool's wtxid memo",
    file: "lib/primitives/compact_block.ts",
    from: "merkleRootSync(txs.map(wtxidOf))",
    to: "merkleRootSync(txs.map(wtxid))",
    tests: ["tests/primitives_compact_block_test.ts"],
  },
  {
    id: "index-pause-kept",
    rule: "explorer: the index waits its pause between slices (a syncing node's blocks go first)",
    file: "lib/explorer/chain_index.ts",
    from: "const ms = pause(performance.now() - t0);",
    to: "const ms = 0;",
    tests: ["tests/explorer_test.ts"],
  },
  {
    id: "index-pause-scaled",
    rule: "explorer: a longer slice waits longer, so the index keeps INDEX_BUSY_SHARE of the thread",
    file: "lib/explorer/chain_index.ts",
    from: "Math.max(INDEX_BUSY_PAUSE_MS, Math.ceil(sliceMs * (1 / INDEX_BUSY_SHARE - 1)))",
    to: "INDEX_BUSY_PAUSE_MS",
    tests: ["tests/explorer_test.ts"],
  },
  {
    id: "index-pause-measured",
    rule: "explorer: the pause is told how long the slice took",
    file: "lib/explorer/chain_index.ts",
    from: "const ms = pause(performance.now() - t0);",
    to: "const ms = pause(INDEX_SLICE_MS);",
    tests: ["tests/explorer_test.ts"],
  },
  {
    id: "index-pause-busy",
    rule: "explorer: the index slows down while blocks come less than INDEX_QUIET_MS apart",
    file: "lib/explorer/chain_index.ts",
    from: "  if (now - lastBlockAt >= INDEX_QUIET_MS) return 0;\n",
    to: "  return 0;\n",
    tests: ["tests/explorer_test.ts"],
  },
  {
    id: "index-after-block",
    rule: "explorer: a new block is indexed INDEX_DELAY_MS later, not in the block's own turns",
    file: "lib/explorer/live.ts",
    from: "const INDEX_DELAY_MS = 250;",
    to: "const INDEX_DELAY_MS = 0;",
    tests: ["tests/explorer_test.ts"],
  },
  {
    id: "bound-sse-clients",
    rule: "explorer: at most maxClients event streams",
    file: "lib/explorer/events.ts",
    from: "this.#clients.size >= this.#limits.maxClients",
    to: "this.#clients.size > this.#limits.maxClients",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-sse-per-host",
    rule: "explorer: at most maxPerHost event streams from one LAN host",
    file: "lib/explorer/events.ts",
    from: "fromHost >= this.#limits.maxPerHost",
    to: "fromHost > this.#limits.maxPerHost",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-sse-queue",
    rule: "explorer: at most maxQueue messages queued for a client (exactly N kept)",
    file: "lib/explorer/events.ts",
    from: "c.queue.length > this.#limits.maxQueue || c.bytes > this.#limits.maxQueueBytes) this.#shed(c)",
    to: "c.queue.length >= this.#limits.maxQueue || c.bytes > this.#limits.maxQueueBytes) this.#shed(c)",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-sse-queue-bytes",
    rule: "explorer: at most maxQueueBytes queued for a client (exactly N kept)",
    file: "lib/explorer/events.ts",
    from: "c.queue.length > this.#limits.maxQueue || c.bytes > this.#limits.maxQueueBytes) this.#shed(c)",
    to: "c.queue.length > this.#limits.maxQueue || c.bytes >= this.#limits.maxQueueBytes) this.#shed(c)",
    tests: BOUND_TESTS,
  },
  // The explorer (issue 25): field escaping, headers on rare statuses, prefix parses.
  {
    id: "explorer-raw-node-id",
    rule: "explorer: a node id in the network map is escaped",
    file: "lib/explorer/network_map.ts",
    from: 'data-node="${n.nodeId}"',
    to: 'data-node="${Object.assign(html``, { text: n.nodeId })}"',
    tests: EXPLORER_TESTS,
  },
  {
    id: "explorer-raw-listen",
    rule: "explorer: this node's listen address in the status line is escaped",
    file: "lib/explorer/pages.ts",
    from: "listening on <b>${s.listen}</b>",
    to: "listening on <b>${Object.assign(html``, { text: s.listen })}</b>",
    tests: EXPLORER_TESTS,
  },
  {
    id: "explorer-rare-status-headers",
    rule: "explorer: plain-text answers (405, 414, 421, 500, 503) carry the security headers",
    file: "lib/explorer/server.ts",
    from: 'headers: { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8", ...extra },',
    to: 'headers: { "content-type": "text/plain; charset=utf-8", ...extra },',
    tests: EXPLORER_TESTS,
  },
  {
    id: "explorer-303-headers",
    rule: "explorer: the search's redirect (303) carries the security headers",
    file: "lib/explorer/server.ts",
    from: "headers: { ...SECURITY_HEADERS, location: found.path }",
    to: "headers: { location: found.path }",
    tests: EXPLORER_TESTS,
  },
  {
    id: "explorer-height-prefix",
    rule: "explorer: a block height is parsed whole (/api/block/5abc is not block 5)",
    file: "lib/explorer/data.ts",
    from: "else if (/^\\d{1,10}$/.test(ref)) entry = chain.entryAt(Number(ref));",
    to: "else if (/^\\d{1,10}/.test(ref)) entry = chain.entryAt(parseInt(ref));",
    tests: EXPLORER_TESTS,
  },
  {
    id: "explorer-param-prefix",
    rule: "explorer: a number in the query is parsed whole",
    file: "lib/explorer/server.ts",
    from: "if (!/^\\d{1,15}$/.test(v))",
    to: "if (!/^\\d{1,15}/.test(v))",
    tests: EXPLORER_TESTS,
  },
  {
    id: "bound-answers-per-source",
    rule:
      "LAN discovery: at most ANSWERS_PER_SOURCE answers a second to one source (frozen clock, no time window)",
    file: "lib/net/beacon.ts",
    from: "(c ?? 0) >= this.#perSource",
    to: "(c ?? 0) > this.#perSource",
    tests: ["tests/net_discovery_test.ts"],
  },
  {
    id: "bound-beacon-targets",
    rule: "LAN discovery: a query is broadcast on at most BEACON_MAX_TARGETS subnets",
    file: "lib/net/beacon.ts",
    from: "if (out.length >= BEACON_MAX_TARGETS) break;",
    to: "if (out.length > BEACON_MAX_TARGETS) break;",
    tests: BOUND_TESTS,
  },
  {
    id: "config-link-queue",
    rule: "serving stops adding to a link (SEND_QUEUE_LIMIT) a frame below where the link is closed as slow",
    file: "lib/net/config.ts",
    from: "export const LINK_MAX_QUEUED_BYTES = 16 * 1024 * 1024;",
    to: "export const LINK_MAX_QUEUED_BYTES = 8 * 1024 * 1024;",
    tests: ["tests/net_config_test.ts"],
  },
  {
    id: "config-stale-retry",
    rule: "the stale-tip check's trial ends before its next try",
    file: "lib/net/config.ts",
    from: "export const STALE_TIP_RETRY_MS = STALE_TIP_MS / 3;",
    to: "export const STALE_TIP_RETRY_MS = 2_000;",
    tests: ["tests/net_config_test.ts"],
  },
  {
    id: "config-discovery-relations",
    rule: "LAN discovery's limits keep their relations (a search's grace ends within its window)",
    file: "lib/net/config.ts",
    from: "export const FIND_GRACE_MS = 120;",
    to: "export const FIND_GRACE_MS = 600;",
    tests: ["tests/net_config_test.ts"],
  },
  // Tie-breaks of the fork choice.
  {
    id: "tie-last-seen",
    rule: "after a more-work branch fails, the first seen of equal-work tips is active (not the last)",
    file: "lib/chain/chain.ts",
    from: "!(e.status & BlockStatus.FAILED) && e.chainWork > best.chainWork",
    to: "!(e.status & BlockStatus.FAILED) && e.chainWork >= best.chainWork",
    tests: FAILURE_TESTS,
  },
  {
    id: "tie-current-tip",
    rule: "after a more-work branch fails, the equal-work tip it reached does not stay because it is the tip",
    file: "lib/chain/chain.ts",
    from: "a.chainWork === b.chainWork && a.seq < b.seq",
    to: "a.chainWork === b.chainWork && a.seq > b.seq",
    tests: FAILURE_TESTS,
  },
  {
    id: "simd-lane-3",
    rule: "the wasm kernel's lane 3 hashes nonce n + 3",
    file: "lib/mining/kernel.wasm",
    from: "fd0c00000000010000000200000003000000",
    to: "fd0c00000000010000000200000004000000",
    count: 2,
    binary: true,
    tests: KERNEL_TESTS,
  },
  // The wallet (issue 21).
  {
    id: "slip10-hardened",
    rule: "SLIP-0010 Ed25519 children are hardened (index + 2^31)",
    file: "lib/wallet/seed.ts",
    from: "setUint32(33, index + HARDENED);",
    to: "setUint32(33, index);",
    tests: ["tests/wallet_seed_test.ts"],
  },
  {
    id: "bip39-checksum",
    rule: "seed words with a wrong checksum are refused",
    file: "lib/wallet/seed.ts",
    from: "if (!validateMnemonic(mnemonic, wordlist)) {",
    to: "if (false) {",
    tests: ["tests/wallet_seed_test.ts", "tests/wallet_restore_test.ts"],
  },
  {
    id: "rescan-pool",
    rule: "a rescan derives keys past each used one, so it finds coins past the first pool",
    file: "lib/wallet/wallet.ts",
    from: "      if (this.#keys.needsTopUp) await this.#keys.topUp();\n",
    to: "",
    tests: ["tests/wallet_restore_test.ts"],
  },
  {
    id: "change-fresh",
    rule: "change goes to a fresh change address, not the receiving one",
    file: "lib/wallet/wallet.ts",
    from: 'const change = await this.#keys.peek("change");',
    to: "const change = this.#keys.primary;",
    tests: ["tests/wallet_test.ts", "tests/wallet_restore_test.ts"],
  },
  {
    id: "history-fee",
    rule: "the history counts the fee the wallet paid",
    file: "lib/wallet/history.ts",
    from: "const fee = ownInputs === tx.inputs.length ? ownIn - ownOut - otherOut : 0;",
    to: "const fee = 0;",
    tests: ["tests/wallet_restore_test.ts"],
  },
  {
    id: "restore-no-overwrite",
    rule: "a restore never writes over a wallet",
    file: "lib/wallet/wallet.ts",
    from: "      await Deno.lstat(path);\n",
    to: "      throw new Deno.errors.NotFound();\n",
    tests: ["tests/wallet_restore_test.ts"],
  },
  {
    id: "wallet-atomic-save",
    rule: "every wallet save replaces the file atomically",
    file: "lib/wallet/wallet_file.ts",
    from: "    await writeFileAtomic(path, data, 0o600);",
    to:
      "    void writeFileAtomic;\n    const f = await Deno.open(path, { write: true, create: true, truncate: true });\n" +
      "    await f.write(data.subarray(0, 100));\n    await f.write(data.subarray(100));\n    f.close();",
    tests: ["tests/wallet_crash_test.ts"],
  },
  {
    id: "wallet-stale-tmp",
    rule: "a crash's temporary wallet file (it may hold secrets) is removed on the next start",
    file: "lib/wallet/wallet.ts",
    from: "    await removeStaleTemporaries(path);\n",
    to: "",
    tests: ["tests/wallet_crash_test.ts"],
  },
  {
    id: "encrypt-locks",
    rule: "an encrypted wallet is locked: sending needs the passphrase",
    file: "lib/wallet/keyring.ts",
    from: "    this.lock();\n  }",
    to: "  }",
    tests: ["tests/wallet_cli_test.ts"],
  },
  {
    id: "startup-rescan",
    rule: "a node rescans the chain for its wallet at start (history, used addresses)",
    file: "lib/node.ts",
    from: "        return await wallet.scanChain(chain, 1, { to, signal: node.#stopping.signal });\n",
    to: "",
    tests: ["tests/wallet_cli_test.ts"],
  },
  {
    id: "backup-confirm",
    rule: "the menu shows the seed words only after a warning and a yes",
    file: "lib/ui/wallet_menu.ts",
    from: 'if (!sure) return ["Seed words not shown."];',
    to: 'if (!sure && false) return ["Seed words not shown."];',
    tests: ["tests/wallet_menu_test.ts"],
  },
  {
    id: "fee-edge",
    rule: "the suggested fee rate beats the rate at the next block's edge",
    file: "lib/wallet/fee_rate.ts",
    from: "Math.floor(e.feeRate) + 1",
    to: "Math.floor(e.feeRate)",
    tests: ["tests/wallet_fee_rate_test.ts"],
  },
  // ---- issue 25, round three: the mempool's count, k-th write faults, partialUpdate under a Node ----
  {
    id: "bound-mempool-count",
    rule: "mempool: at most MAX_MEMPOOL_TXS transactions (the N-th still fits)",
    file: "lib/chain/mempool.ts",
    from: "this.#entries.size - freedCount + 1 <= this.maxCount",
    to: "this.#entries.size - freedCount + 1 < this.maxCount",
    tests: BOUND_TESTS,
  },
  {
    id: "mempool-count-ignored",
    rule: "mempool: a pool full in count evicts by fee rate too",
    file: "lib/chain/mempool.ts",
    from: " && this.#entries.size - freedCount + 1 <= this.maxCount",
    to: "",
    tests: BOUND_TESTS,
  },
  {
    id: "wallet-dirty-on-failure",
    rule: "wallet file: a failed save leaves the wallet to be written again",
    file: "lib/wallet/wallet.ts",
    from: "      this.#dirty = true;\n      throw e;",
    to: "      throw e;",
    tests: WRITE_FAULT_TESTS,
  },
  {
    id: "node-partial-update",
    rule: "a Node follows what a failed processBlock changed all the same (partialUpdate)",
    file: "lib/node.ts",
    from: "    if (update) await this.#afterChainUpdate(update, source);",
    to: "    void [update, source];",
    tests: NODE_FAILURE_TESTS,
  },
  {
    id: "dir-gone-comes-back",
    rule: "directory: an expired or removed entry is not taken back at the same sequence",
    file: "lib/net/directory.ts",
    from: "    if ((this.#gone.get(entry.nodeId) ?? -1) >= entry.seq) return undefined;",
    to: "",
    tests: WIRING_TESTS,
  },
  {
    id: "bound-dir-max",
    rule: "directory: at most DIR_MAX entries (the N-th still fits)",
    file: "lib/net/directory.ts",
    from: "if (this.#slots.size <= this.#max) return;",
    to: "if (this.#slots.size < this.#max) return;",
    tests: BOUND_TESTS,
  },
  {
    id: "bound-max-peers-admit",
    rule: "a SuperPeer admits a Peer only below its capacity (DEFAULT_MAX_PEERS, as wired)",
    file: "lib/net/overlay.ts",
    from: 'if (s.members < s.capacity) return { kind: "admit" };',
    to: 'if (s.members <= s.capacity) return { kind: "admit" };',
    tests: BOUND_TESTS,
  },
  // ---- the overlay's rules as Network wires them (network.ts and the modules split from it: superpeer.ts,
  // joining.ts, handshake.ts, gossip.ts, peer_side.ts) ----
  {
    id: "wired-eviction-lastblock",
    rule: "a full SuperPeer's eviction is fed when each member last relayed a block",
    file: "lib/net/superpeer.ts",
    from: "          lastBlock: s.lastBlock,\n          lastTx: s.lastTx,",
    to: "          lastBlock: s.lastTx,\n          lastTx: s.lastTx,",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-eviction-since",
    rule: "a full SuperPeer's eviction is fed when each member's link opened",
    file: "lib/net/superpeer.ts",
    from: "          since: l.openedAt,\n          pingMs",
    to: "          since: 0,\n          pingMs",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-backup-excludes-primary",
    rule: "a Peer's second SuperPeer is never its primary",
    file: "lib/net/joining.ts",
    // The primary is left out by id and by address (and chooseSecond avoids its host): the plant drops both.
    from:
      "      primary.nodeId,\n      ...round,\n      ...this.#dead.keys(),\n      ...[primary.listen, this.#h.advertise()]",
    to: "      ...round,\n      ...this.#dead.keys(),\n      ...[this.#h.advertise()]",
    tests: WIRING_TESTS,
  },
  {
    id: "second-round-rotates",
    rule:
      "a Peer seeking its second asks each SuperPeer once per round, not the same full one again and again (the seekSecond stall)",
    file: "lib/net/joining.ts",
    from: "      primary.nodeId,\n      ...round,\n",
    to: "      primary.nodeId,\n",
    tests: WIRING_TESTS,
  },
  {
    id: "second-refusal-counts",
    rule:
      "a refusal counts towards adding capacity only when the refuser's own entry, if this node holds one, says it is full",
    file: "lib/net/overlay.ts",
    from: "return entry === undefined || !hasRoom(entry);",
    to: "return true;",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "second-refusal-counts-wired",
    rule:
      "seekSecond counts only refusals whose refuser's entry says full: two liars claiming room on loopback make no Peer promote (eclipse)",
    file: "lib/net/joining.ts",
    from: "if (refusalCounts(entry)) {",
    to: "if (entry || !entry) {",
    tests: ["tests/net_evidence_test.ts"],
  },
  {
    id: "second-promote-hinted",
    rule:
      "a Peer seeking its second adds capacity only with a promote hint this round (one at a time, no stampede)",
    file: "lib/net/overlay.ts",
    from: "if (!s.hinted || !s.counted.length) return false;",
    to: "if (!s.counted.length) return false;",
    tests: ["tests/net_overlay_rules_test.ts"],
  },
  {
    id: "second-all-full-stall",
    rule:
      "a Peer turned away by every SuperPeer it could pick, its primary full too, adds capacity after SECOND_STALL_MS",
    file: "lib/net/overlay.ts",
    from:
      "s.exhausted && s.primary !== undefined && !hasRoom(s.primary) && (s.seekingMs ?? 0) >= SECOND_STALL_MS",
    to: "false",
    tests: ["tests/net_overlay_rules_test.ts", ...WIRING_TESTS],
  },
  {
    id: "second-all-full-primary",
    rule: "a Peer whose primary has room keeps the one SuperPeer it holds when the only other is full",
    file: "lib/net/overlay.ts",
    from: "s.exhausted && s.primary !== undefined && !hasRoom(s.primary) &&",
    to: "s.exhausted &&",
    tests: ["tests/net_overlay_rules_test.ts", ...WIRING_TESTS],
  },
  {
    id: "stale-extra-ready-once",
    rule:
      "a SuperPeer kept by the stale-tip trial is made ready for relay once (our inventory is not sent twice)",
    file: "lib/net/peer_side.ts",
    from: "    if (this.#ready.has(link)) return;\n",
    to: "",
    tests: ["tests/net_peer_side_test.ts"],
  },
  {
    id: "wired-mesh-linked",
    rule: "mesh planning is fed the mesh links this SuperPeer holds",
    file: "lib/net/superpeer.ts",
    from: "      linked.map((l) => entryOf(l).nodeId),\n      this.others(),",
    to: "      [],\n      this.others(),",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-dir-touch-linked",
    rule: "directory: only entries of live mesh links are kept alive without a new entry",
    file: "lib/net/superpeer.ts",
    from: "for (const link of this.#h.meshLinks()) this.#dir.touch(entryOf(link).nodeId, now);",
    to: "for (const e of this.#dir.entries()) this.#dir.touch(e.nodeId, now);",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-peer-dir-expire",
    rule: "directory: a Peer's view of each SuperPeer's directory expires too",
    file: "lib/net/peer_side.ts",
    from: "      s.dir.expire(now);\n",
    to: "",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-host-limit",
    rule: "a SuperPeer counts the links a host holds before it takes one more",
    file: "lib/net/handshake.ts",
    from: "overHostLimit(host, this.#h.links.fromHost(host))",
    to: "overHostLimit(host, 0)",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-demote-link-age",
    rule: "step-down is fed when each mesh link opened (links held DEMOTE_AFTER_MS)",
    file: "lib/net/superpeer.ts",
    from: "            since: l.openedAt,\n            roomy",
    to: "            since: 0,\n            roomy",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-successor-order",
    rule: "failover: the lost SuperPeer's roster is read in join order (its first live Peer takes over)",
    file: "lib/net/joining.ts",
    from: "const next = successor(roster, gone);",
    to: "const next = successor([...roster].reverse(), gone);",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-roster-join-order",
    rule: "a SuperPeer's roster lists its Peers in join order",
    file: "lib/net/superpeer.ts",
    from: "this.#roster = [...this.#roster.filter((p) => p.nodeId !== peer.nodeId), peer];",
    to: "this.#roster = [peer, ...this.#roster.filter((p) => p.nodeId !== peer.nodeId)];",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-max-peers",
    rule: "a SuperPeer's join answer is fed its own --max-peers as capacity",
    file: "lib/net/superpeer.ts",
    from: "      capacity: this.#h.capacity,\n      others: this.others(),",
    to: "      capacity: this.#h.capacity + 1,\n      others: this.others(),",
    tests: BOUND_TESTS,
  },
  {
    id: "wired-waiting-links",
    rule: "past MAX_WAITING_LINKS silent sockets, the oldest makes room (the N-th still waits)",
    file: "lib/net/handshake.ts",
    from: "if (waiting.length >= MAX_WAITING_LINKS) waiting[0]",
    to: "if (waiting.length > MAX_WAITING_LINKS) waiting[0]",
    tests: BOUND_TESTS,
  },
  {
    id: "wired-dir-newer",
    rule: "directory: a newer entry of a known SuperPeer replaces the older",
    file: "lib/net/gossip.ts",
    from: "if (e.seq > now + DIR_MAX_SEQ_AHEAD_MS || (dir.get(e.nodeId)?.seq ?? -1) >= e.seq) continue;",
    to: "if (e.seq > now + DIR_MAX_SEQ_AHEAD_MS || dir.get(e.nodeId) !== undefined) continue;",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-demote-hosts",
    rule: "step-down is fed each mesh link's own host (two SuperPeers on one machine count as one)",
    file: "lib/net/superpeer.ts",
    from: "            host: l.conn.remote.hostname,\n            since: l.openedAt,",
    to: '            host: "127.0.0.1",\n            since: l.openedAt,',
    tests: WIRING_TESTS,
  },
  {
    id: "wired-news-block-as-tx",
    rule:
      "a block a member relayed is recorded as a block relay (eviction protects blocks and transactions apart)",
    file: "lib/net/network.ts",
    from: 'if (kind === "block") s.lastBlock = this.#clock.now();',
    to: 'if (kind === "block") s.lastTx = this.#clock.now();',
    tests: WIRING_TESTS,
  },
  {
    id: "host-limit-by-group",
    rule: "the per-host link cap counts an IPv6 /64 as one host (LinkSet.fromHost groups by hostGroup)",
    file: "lib/net/link.ts",
    from: "if (hostGroup(l.conn.remote.hostname) === group) n++;",
    to: "if (l.conn.remote.hostname === host) n++;",
    tests: WIRING_TESTS,
  },
  {
    id: "ban-by-host-group",
    rule: "a ban holds a host: an IPv4 address or a whole IPv6 /64 (a machine cannot walk its /64 back in)",
    file: "lib/net/ban.ts",
    from: "  return hostGroup(host.trim());",
    to:
      '  const h = host.trim().toLowerCase();\n  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;',
    tests: ["tests/net_tracker_test.ts"],
  },
  {
    id: "role-demote-withdraws",
    rule: "a SuperPeer stepping down withdraws its own entry, signed, and tells the mesh (RoleChange.demote)",
    file: "lib/net/role_change.ts",
    from: "    this.#h.gossip.dir.remove(this.#h.nodeId, seq, undefined, sig);\n",
    to: "",
    tests: [...WIRING_TESTS, ...OVERLAY_TESTS],
  },
  {
    id: "wired-join-answer-others",
    rule: "a full SuperPeer's join answer is fed its directory (it points newcomers to SuperPeers with room)",
    file: "lib/net/superpeer.ts",
    from: "      others: this.others(),\n      now: this.#h.clock.now(),",
    to: "      others: [],\n      now: this.#h.clock.now(),",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-failover-greeted",
    rule:
      "failover is fed which SuperPeers this node greeted (dialled first, waited for before the successor)",
    file: "lib/net/joining.ts",
    from: "      others,\n      (e) => this.#h.book.wasGreeted(e.listen),",
    to: "      others,\n      () => false,",
    tests: WIRING_TESTS,
  },
  {
    id: "backup-entered-dead-addr",
    rule:
      "a Peer seeking a backup takes a directory entry at an own-book address asked while nothing answered there",
    file: "lib/net/joining.ts",
    from: "...[...this.#deadAddrs.keys()].filter((a) => !entered.has(a)),",
    to: "...this.#deadAddrs.keys(),",
    tests: WIRING_TESTS,
  },
  {
    id: "wired-peer-view-newer",
    rule: "directory: a Peer's view of two SuperPeers' copies of an entry keeps the newer",
    file: "lib/net/peer_side.ts",
    from: "if (!old || old.seq < e.seq) view.set(e.nodeId, e);",
    to: "if (!old || old.seq > e.seq) view.set(e.nodeId, e);",
    tests: WIRING_TESTS,
  },
  // Compact relay and pipelined sync (issue 22).
  {
    id: "compact-merkle",
    rule:
      "compact relay: a rebuilt block whose merkle root differs (a short-id collision) falls back to the full block",
    file: "lib/primitives/compact_block.ts",
    from: "if (merkleRootSync(txs.map(wtxidOf)) !== header.merkleRoot) {",
    to: "if (false) {",
    tests: RELAY_TESTS,
  },
  {
    id: "compact-getblocktxn",
    rule: "compact relay: only the missing transactions are asked for (getblocktxn), not the whole block",
    file: "lib/net/compact_relay.ts",
    from: 'link.conn.send({ type: "getblocktxn", hash: r.id, positions: r.missing });',
    to: "this.#full(link, r.id);",
    tests: RELAY_TESTS,
  },
  {
    id: "compact-blocktxn-unasked",
    rule: "compact relay: a blocktxn counts only as the answer, on that link, to our getblocktxn",
    file: "lib/net/compact_relay.ts",
    from: "if (!w || w.link !== link || !this.#ledger.rebuildCompact) {",
    to: "if (!this.#ledger.rebuildCompact) {",
    tests: RELAY_TESTS,
  },
  {
    id: "relay-compact-push",
    rule: "compact relay: a block is pushed compact",
    file: "lib/net/relay.ts",
    from: "const compact = targets.some((t) => !isLegacy(t)) ? this.#compact.message(bytes) : undefined;",
    to: "const compact = targets.some(() => false) ? this.#compact.message(bytes) : undefined;",
    tests: RELAY_TESTS,
  },
  {
    id: "sync-named-defers",
    rule:
      "payments wait for a download once its lead named blocks we lack (not before any block connected only)",
    file: "lib/net/block_sync.ts",
    from: "    if (fresh.length) this.#named = true;\n",
    to: "",
    tests: ["tests/net_relay_test.ts", ...RELAY_TESTS],
  },
  {
    id: "sync-window",
    rule: "pipelined sync: no more than SYNC_WINDOW blocks are asked ahead",
    file: "lib/net/block_sync.ts",
    from: "const end = Math.min(this.#want.length, SYNC_WINDOW);",
    to: "const end = this.#want.length;",
    tests: RELAY_TESTS,
  },
  {
    id: "sync-slow",
    rule: "pipelined sync: a source silent for SYNC_SLOW_MS is dropped and its share asked elsewhere",
    file: "lib/net/block_sync.ts",
    from: "else if (s.inflight > 0 && now - s.last > SYNC_SLOW_MS) this.#drop(link);",
    to: "else if (false) this.#drop(link);",
    tests: RELAY_TESTS,
  },
  {
    id: "sync-lead-lie",
    rule: "pipelined sync: a lead answering notfound for blocks it named is scored",
    file: "lib/net/block_sync.ts",
    from: "this.#hooks.misbehaved(link, SYNC_LIE_SCORE,",
    to: "if (false) this.#hooks.misbehaved(link, SYNC_LIE_SCORE,",
    tests: RELAY_TESTS,
  },
];

/** The result of one plant: the tests that went red (or why it could not be run). */
export interface PlantResult {
  plant: Plant;
  red: string[];
  error?: string;
}

const NO_COLOR = { NO_COLOR: "1" };

function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Runs `files` in `dir`; the names of the tests that failed, or ["(timed out)"] after `timeoutMs`. */
async function runTests(dir: string, files: string[], timeoutMs: number): Promise<string[]> {
  const present = [];
  for (const f of files) if (await Deno.stat(`${dir}/${f}`).then(() => true, () => false)) present.push(f);
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["test", "--no-check", "-A", ...present],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: NO_COLOR,
  }).spawn();
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const out = await proc.output();
  clearTimeout(timer);
  if (out.signal === "SIGKILL") return ["(timed out: a test hung)"];
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const red = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^(.*?) \.\.\. FAILED/.exec(line);
    if (m) red.add(m[1].trim());
  }
  // A run that fails without a failed test never ran them: a plant that does not even load is no catch.
  if (!out.success && red.size === 0) throw new Error(`the tests did not run: ${text.trim().slice(-300)}`);
  return [...red];
}

async function copyRepo(root: string, to: string): Promise<void> {
  const tar = new Deno.Command("bash", {
    args: ["-c", `tar cf - --exclude=.git . | (cd '${to}' && tar xf -)`],
    cwd: root,
  });
  const out = await tar.output();
  if (!out.success) throw new Error(`copying the repository failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Plants each of `plants` in a copy of `root` and runs its tests; the unplanted copy must pass first. */
export async function audit(
  root: string,
  plants: Plant[],
  log: (line: string) => void = () => {},
): Promise<PlantResult[]> {
  const tmp = await Deno.makeTempDir({ prefix: "peerchain-plants-" });
  try {
    const repo = `${tmp}/repo`;
    await Deno.mkdir(repo);
    await copyRepo(root, repo);
    const files = [...new Set(plants.flatMap((p) => p.tests ?? LEDGER_TESTS))];
    const baseline = await runTests(repo, files, 600_000);
    if (baseline.length) throw new Error(`the unplanted copy fails: ${baseline.join("; ")}`);
    log(`baseline green: ${files.length} test files`);
    const results: PlantResult[] = [];
    for (const plant of plants) {
      const path = `${repo}/${plant.file}`;
      const original = await Deno.readFile(path);
      const result: PlantResult = { plant, red: [] };
      try {
        if (plant.binary) {
          const hex = original.toHex();
          if (occurrences(hex, plant.from) !== (plant.count ?? 1)) throw new Error("pattern count differs");
          await Deno.writeFile(path, Uint8Array.fromHex(hex.replaceAll(plant.from, plant.to)));
        } else {
          const text = new TextDecoder().decode(original);
          const n = occurrences(text, plant.from);
          if (n !== (plant.count ?? 1)) throw new Error(`"${plant.from}" occurs ${n} times`);
          await Deno.writeTextFile(path, text.replaceAll(plant.from, plant.to));
        }
        result.red = await runTests(repo, plant.tests ?? LEDGER_TESTS, 180_000);
      } catch (e) {
        result.error = (e as Error).message;
      } finally {
        await Deno.writeFile(path, original);
      }
      const verdict = result.red.length
        ? result.red.join(" | ")
        : plant.equivalent
        ? "equivalent"
        : "NOT CAUGHT";
      log(`${plant.id}: ${result.error ?? verdict}`);
      results.push(result);
    }
    return results;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** The results as the markdown table of tests/README.md. */
export function markdown(results: PlantResult[]): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  return [
    "| rule | plant | file | tests that go red |",
    "| --- | --- | --- | --- |",
    ...results.map((r) =>
      `| ${cell(r.plant.rule)} | \`${r.plant.id}\` | ${r.plant.file.replace(/^lib\//, "")} | ${
        r.error
          ? `(not run: ${cell(r.error)})`
          : r.red.length
          ? cell(r.red.slice(0, 3).join("; ") + (r.red.length > 3 ? `; and ${r.red.length - 3} more` : ""))
          : r.plant.equivalent
          ? `none can: ${cell(r.plant.equivalent)}`
          : "**none**"
      } |`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const args = Deno.args;
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const at = (flag: string) => args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined;
  const only = at("--only")?.split(",");
  const plants = only ? PLANTS.filter((p) => only.includes(p.id)) : PLANTS;
  if (only && plants.length !== only.length) {
    console.error(`unknown plant: ${only.filter((id) => !PLANTS.some((p) => p.id === id)).join(", ")}`);
    Deno.exit(2);
  }
  const results = await audit(root, plants, (l) => console.error(l));
  if (args.includes("--markdown")) console.log(markdown(results));
  const missed = results.filter((r) =>
    r.error || (r.red.length === 0) !== (r.plant.equivalent !== undefined)
  );
  console.error(
    `${results.length - missed.length} of ${results.length} plants as expected ` +
      `(caught, or equivalent and not caught)${
        missed.length ? `; not: ${missed.map((r) => r.plant.id)}` : ""
      }`,
  );
  Deno.exit(missed.length ? 1 : 0);
}
