/**
 * Undo data: the coins a block spent, with their outpoints, so the block can be disconnected in a reorg.
 * @module
 */
import { fromHexReversed, toHex, toHexReversed } from "../crypto/hex.ts";
import { Reader, Writer } from "../primitives/bytes.ts";
import type { CoinEntry } from "../store/store.ts";

/** Encodes spent coins: outpoint (txid 32, index u32), amount i64, key hash 20, height u32, coinbase u8. */
export function encodeUndo(spent: CoinEntry[]): Uint8Array<ArrayBuffer> {
  const w = new Writer().compactSize(spent.length);
  for (const [key, c] of spent) {
    const [id, index] = key.split(":");
    w.bytes(fromHexReversed(id)).u32(Number(index)).i64(c.amount).bytes(Uint8Array.fromHex(c.pubKeyHash))
      .u32(c.height).bytes(new Uint8Array([c.coinbase ? 1 : 0]));
  }
  return w.finish();
}

/** Decodes what `encodeUndo` wrote. */
export function decodeUndo(bytes: Uint8Array): CoinEntry[] {
  const r = new Reader(bytes);
  const n = r.compactSize(bytes.length);
  const out: CoinEntry[] = [];
  for (let i = 0; i < n; i++) {
    const key = `${toHexReversed(r.take(32))}:${r.u32()}`;
    out.push([key, {
      amount: r.i64(),
      pubKeyHash: toHex(r.take(20)),
      height: r.u32(),
      coinbase: r.take(1)[0] === 1,
    }]);
  }
  r.end("undo data");
  return out;
}
