/**
 * The primitives and consensus math against real Bitcoin mainnet data: header encoding and hashes, chaining,
 * proof of work, all 413 retargets up to height 832608, chainwork, and merkle roots of five real blocks.
 * @module
 */
import assert from "node:assert/strict";
import { toHex } from "../lib/crypto/hex.ts";
import {
  blockHash,
  blockHashSync,
  type BlockHeader,
  decodeHeader,
  encodeHeader,
} from "../lib/primitives/header.ts";
import { merkleRoot, merkleRootSync } from "../lib/primitives/merkle.ts";
import {
  bitsToTarget,
  blockWork,
  checkProofOfWork,
  hashToBigInt,
  retargetBits,
  targetToBits,
} from "../lib/consensus/pow.ts";
import {
  type ChainworkEntry,
  GENESIS_HASH,
  loadBlocks,
  loadCheckpoints,
  loadHeaderFile,
  loadRetargetBoundaries,
} from "./support/testdata.ts";

const INTERVAL = 2016;
const TARGET_TIMESPAN = 1_209_600;
const POW_LIMIT = bitsToTarget(0x1d00ffff);

/** Decodes one header, checking it re-encodes to exactly the same bytes. */
function decodeExact(bytes: Uint8Array<ArrayBuffer>, label: string): BlockHeader {
  const h = decodeHeader(bytes);
  assert.equal(toHex(encodeHeader(h)), toHex(bytes), `${label}: re-encoding differs`);
  return h;
}

/**
 * Checks a header's proof of work both ways: it meets its own bits; it misses the tightest compact target
 * below its hash and meets the one just above; a different nonce misses its bits.
 */
function checkPowBothWays(h: BlockHeader, hash: string, label: string): void {
  assert.ok(checkProofOfWork(hash, h.bits), `${label}: fails its own bits`);
  assert.ok(checkProofOfWork(hash, h.bits, POW_LIMIT), `${label}: fails with Bitcoin's pow limit`);

  const value = hashToBigInt(hash);
  const below = targetToBits(value); // compact encoding truncates, so this target is <= the hash
  assert.ok(bitsToTarget(below) <= value, `${label}: compact truncation rounded up`);
  if (bitsToTarget(below) < value) {
    assert.ok(!checkProofOfWork(hash, below), `${label}: passes a target below it`);
  }
  const mantissa = below & 0x007fffff;
  if (mantissa < 0x007fffff) {
    const above = (below & 0xff000000) | (mantissa + 1);
    assert.ok(bitsToTarget(above) > value);
    assert.ok(checkProofOfWork(hash, above), `${label}: fails a target just above its hash`);
  }

  const mutated = { ...h, nonce: (h.nonce + 1) >>> 0 };
  assert.ok(
    !checkProofOfWork(blockHashSync(mutated), h.bits),
    `${label}: a different nonce still meets the target`,
  );
}

/** Runs the per-header checks over a consecutive run of headers starting at `firstHeight`. */
async function checkHeaderRun(raw: Uint8Array<ArrayBuffer>[], firstHeight: number): Promise<BlockHeader[]> {
  const headers: BlockHeader[] = [];
  let prevHash: string | undefined;
  for (const [i, bytes] of raw.entries()) {
    const label = `height ${firstHeight + i}`;
    const h = decodeExact(bytes, label);
    const hash = blockHashSync(h);
    assert.equal(await blockHash(h), hash, `${label}: WebCrypto and sync hashes differ`);
    if (prevHash !== undefined) assert.equal(h.prevHash, prevHash, `${label}: does not chain`);
    checkPowBothWays(h, hash, label);
    prevHash = hash;
    headers.push(h);
  }
  return headers;
}

function byHeight(entries: ChainworkEntry[]): Map<number, { header: BlockHeader; work: bigint }> {
  return new Map(entries.map((e) => [e.height, {
    header: decodeExact(Uint8Array.fromHex(e.header_hex), `height ${e.height}`),
    work: BigInt("0x" + e.chainwork_hex),
  }]));
}

Deno.test("headers 0..438: decode, re-encode, hash both ways, chain from genesis, proof of work", async () => {
  const raw = loadHeaderFile("headers_0_438.txt");
  assert.equal(raw.length, 439);
  const headers = await checkHeaderRun(raw, 0);
  assert.equal(blockHashSync(headers[0]), GENESIS_HASH);
  assert.equal(await blockHash(headers[0]), GENESIS_HASH);
  assert.equal(headers[0].prevHash, "0".repeat(64));
  assert.ok(headers.every((h) => h.bits === 0x1d00ffff));
});

Deno.test("headers 822528..824544: chain, proof of work, and the 824544 retarget", async () => {
  const raw = loadHeaderFile("headers_822528_824544.txt");
  assert.equal(raw.length, 2017);
  const headers = await checkHeaderRun(raw, 822528);
  const first = headers[0], last = headers[2015], next = headers[2016];
  assert.ok(headers.slice(0, 2016).every((h) => h.bits === 0x1703e8b3));
  assert.equal(next.bits, 0x1703d869);
  assert.equal(retargetBits(last.bits, last.time - first.time, TARGET_TIMESPAN, POW_LIMIT), next.bits);

  // The same blocks as stored by the other source (retarget_boundaries.json) must be byte-identical.
  const boundaries = byHeight(loadRetargetBoundaries());
  for (const [i, height] of [[0, 822528], [2015, 824543], [2016, 824544]]) {
    assert.deepEqual(boundaries.get(height)?.header, headers[i], `height ${height} differs between sources`);
  }
});

Deno.test("retarget_boundaries.json: all 413 retargets reproduced, headers chain across each boundary", () => {
  const entries = loadRetargetBoundaries();
  assert.equal(entries.length, 827);
  const at = byHeight(entries);
  let periods = 0, changed = 0;
  for (let start = 0; at.has(start + INTERVAL); start += INTERVAL) {
    const first = at.get(start)!.header, last = at.get(start + INTERVAL - 1)!.header;
    const next = at.get(start + INTERVAL)!.header;
    assert.equal(last.bits, first.bits, `period ${start}: bits change inside the period`);
    const bits = retargetBits(last.bits, last.time - first.time, TARGET_TIMESPAN, POW_LIMIT);
    assert.equal(bits.toString(16), next.bits.toString(16), `retarget at ${start + INTERVAL}`);
    assert.equal(next.prevHash, blockHashSync(last), `height ${start + INTERVAL} does not chain`);
    if (next.bits !== last.bits) changed++;
    periods++;
  }
  assert.equal(periods, 413);
  assert.equal(changed, 398);
  for (const [height, { header }] of at) checkPowBothWays(header, blockHashSync(header), `height ${height}`);
  // The first difficulty change in Bitcoin's history, at 32256.
  assert.equal(at.get(32255)!.header.bits, 0x1d00ffff);
  assert.equal(at.get(32256)!.header.bits, 0x1d00d86a);
});

Deno.test("checkpoints.json: chainwork follows from blockWork", () => {
  const cps = loadCheckpoints();
  assert.equal(cps.length, 436);
  const parsed = cps.map((c) => ({
    height: c.height,
    bits: decodeExact(Uint8Array.fromHex(c.header_hex), `checkpoint ${c.height}`).bits,
    work: BigInt("0x" + c.chainwork_hex),
  }));
  assert.equal(parsed[0].height, 2016);
  assert.equal(parsed[0].work, 2017n * blockWork(0x1d00ffff));
  for (let i = 1; i < parsed.length; i++) {
    const a = parsed[i - 1], b = parsed[i];
    assert.equal(b.height, a.height + INTERVAL);
    // Blocks a+1..a+2015 share a's bits; block b opens the next period with its own.
    assert.equal(b.work - a.work, 2015n * blockWork(a.bits) + blockWork(b.bits), `checkpoint ${b.height}`);
  }
});

Deno.test("retarget_boundaries.json: chainwork follows from blockWork and agrees with checkpoints.json", () => {
  const at = byHeight(loadRetargetBoundaries());
  assert.equal(at.get(0)!.work, blockWork(0x1d00ffff));
  assert.equal(blockWork(0x1d00ffff), 0x100010001n);
  for (let start = 0; at.has(start + INTERVAL); start += INTERVAL) {
    const first = at.get(start)!, last = at.get(start + INTERVAL - 1)!, next = at.get(start + INTERVAL)!;
    assert.equal(last.work - first.work, 2015n * blockWork(first.header.bits), `period ${start}`);
    assert.equal(next.work - last.work, blockWork(next.header.bits), `height ${start + INTERVAL}`);
  }
  let shared = 0;
  for (const cp of loadCheckpoints()) {
    const b = at.get(cp.height);
    if (!b) continue;
    shared++;
    assert.equal(b.work, BigInt("0x" + cp.chainwork_hex), `chainwork at ${cp.height}`);
    assert.equal(toHex(encodeHeader(b.header)), cp.header_hex, `header at ${cp.height}`);
  }
  assert.equal(shared, 413);
});

Deno.test("blocks.json: headers decode to the listed fields and merkle roots recompute from the txids", async () => {
  const blocks = loadBlocks();
  assert.deepEqual(blocks.map((b) => b.height).sort((a, b) => a - b), [0, 170, 277647, 482683, 830000]);
  const headers0 = loadHeaderFile("headers_0_438.txt");
  for (const b of blocks) {
    const label = `block ${b.height}`;
    const h = decodeExact(Uint8Array.fromHex(b.header_hex), label);
    assert.deepEqual(h, {
      version: b.version,
      prevHash: b.prev_hash,
      merkleRoot: b.merkle_root,
      time: b.time,
      bits: parseInt(b.bits, 16),
      nonce: b.nonce,
    }, label);
    assert.equal(blockHashSync(h), b.hash, label);
    assert.equal(await blockHash(h), b.hash, label);
    if (b.height < headers0.length) assert.equal(toHex(headers0[b.height]), b.header_hex, label);
    checkPowBothWays(h, b.hash, label);

    assert.equal(b.txids.length, b.tx_count, label);
    assert.equal(merkleRootSync(b.txids), b.merkle_root, `${label}: merkleRootSync`);
    assert.equal(await merkleRoot(b.txids), b.merkle_root, `${label}: merkleRoot`);
    if (b.txids.length === 1) assert.equal(b.merkle_root, b.txids[0], `${label}: a lone txid is the root`);
    if (b.txids.length >= 2) {
      const swapped = [b.txids[1], b.txids[0], ...b.txids.slice(2)];
      assert.notEqual(merkleRootSync(swapped), b.merkle_root, `${label}: order does not matter`);
      assert.notEqual(
        await merkleRoot(swapped),
        b.merkle_root,
        `${label}: order does not matter (WebCrypto)`,
      );
    }
    if (b.txids.length % 2 === 1 && b.txids.length > 1) {
      // Bitcoin's odd-level rule duplicates the last id, so appending it again gives the same root.
      const dup = [...b.txids, b.txids.at(-1)!];
      assert.equal(merkleRootSync(dup), b.merkle_root, `${label}: odd-level duplication`);
      assert.notEqual(merkleRootSync(b.txids.slice(0, -1)), b.merkle_root, `${label}: last txid ignored`);
    }
  }
});
