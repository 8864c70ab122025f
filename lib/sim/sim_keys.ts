/**
 * Node keys in the simulation. WebCrypto's Ed25519 settles across real macrotasks, which the virtual clock
 * does not wait for, so simulated nodes sign with a stand-in: a keyed hash of the message under a secret the
 * world holds for each node id, checked against the same secret. Every rule of the handshake runs as with
 * real keys: a node that does not hold an id's secret cannot prove that id (simulated adversaries get keys
 * of their own, never others'). Not cryptography: only for the simulation.
 * @module
 */
import type { NodeIdentity, SignatureCheck } from "../net/identity.ts";

/** The secrets of a simulated world's node keys, and the check of their signatures. */
export class SimKeys {
  #secrets = new Map<string, number>();

  /** A node key for `nodeId` with `secret` (drawn from the world's seeded random numbers). */
  identity(nodeId: string, secret: number): NodeIdentity {
    this.#secrets.set(nodeId, secret >>> 0);
    return { nodeId, sign: (m) => Promise.resolve(mac(secret >>> 0, m)) };
  }

  /** Checks a signature against the secret of `nodeId`; false for an id the world never issued. */
  readonly check: SignatureCheck = (nodeId, signature, message) => {
    const secret = this.#secrets.get(nodeId);
    if (secret === undefined || signature.length !== 64) return Promise.resolve(false);
    const want = mac(secret, message);
    let diff = 0;
    for (let i = 0; i < 64; i++) diff |= want[i] ^ signature[i];
    return Promise.resolve(diff === 0);
  };
}

/** 64 bytes of a keyed, mixing hash (murmur3's finaliser over 16 lanes). */
function mac(secret: number, m: Uint8Array): Uint8Array<ArrayBuffer> {
  const lanes = new Uint32Array(16);
  for (let l = 0; l < 16; l++) lanes[l] = Math.imul(secret ^ (l * 0x9e3779b9), 0x85ebca6b) >>> 0;
  for (let i = 0; i < m.length; i++) {
    const l = i & 15;
    lanes[l] = Math.imul(lanes[l] ^ m[i], 0x01000193) >>> 0;
    lanes[(l + 1) & 15] ^= lanes[l] >>> 13;
  }
  for (let l = 0; l < 16; l++) {
    let h = lanes[l] ^ lanes[(l + 7) & 15] ^ m.length;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    lanes[l] = (h ^ (h >>> 16)) >>> 0;
  }
  return new Uint8Array(lanes.buffer);
}
