/**
 * A benchmark worker: raw WebCrypto Ed25519 verifies of one signature in a loop, a bounded number pending at
 * once, as fast as it can; answers how many it did in how many ms. One per core gives `verify_raw_parallel_per_s`,
 * the ceiling the verifier pool is measured against.
 * @module
 */
import { verify } from "../lib/crypto/ed25519.ts";

/** What the worker is asked: verify `item` `count` times, `lanes` pending at once. */
export interface RawVerifyJob {
  publicKey: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
  message: Uint8Array<ArrayBuffer>;
  count: number;
  lanes: number;
}

interface Scope {
  postMessage(m: { ms: number; valid: number }): void;
  onmessage: ((e: MessageEvent<RawVerifyJob>) => void) | null;
}
const scope = self as unknown as Scope;

scope.onmessage = async (e) => {
  const { publicKey, signature, message, count, lanes } = e.data;
  let started = 0, valid = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      if (await verify(publicKey, signature, message)) valid++;
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: lanes }, lane));
  scope.postMessage({ ms: performance.now() - t, valid });
};
