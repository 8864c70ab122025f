/**
 * The signature-check Web Worker: verifies batches of Ed25519 signatures with WebCrypto and answers one
 * verdict byte per item. A batch arrives packed in one transferred buffer (`packBatch`), so a hundred checks
 * cost one message each way.
 * @module
 */
import { verify } from "./ed25519.ts";
import { unpackBatch, type VerifyBatch, type VerifyVerdicts } from "./verify_batch.ts";

interface Scope {
  postMessage(m: VerifyVerdicts, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent<VerifyBatch>) => void) | null;
}
const scope = self as unknown as Scope;

scope.onmessage = async (e) => {
  const { id, data } = e.data;
  const items = unpackBatch(new Uint8Array(data));
  const ok = new Uint8Array(items.length);
  // A batch is bounded by the pool (`MAX_BATCH`), so its checks may all be pending at once.
  const verdicts = await Promise.all(items.map((i) => verify(i.publicKey, i.signature, i.message)));
  verdicts.forEach((v, i) => ok[i] = v ? 1 : 0);
  scope.postMessage({ id, ok: ok.buffer }, [ok.buffer]);
};
