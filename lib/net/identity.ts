/**
 * Node identities: each node holds its own Ed25519 key (in the data directory, mode 0600, kept across
 * restarts) and its node id is the public key in hex, so claiming an id needs its key (libp2p's identity
 * peer ids). The handshake proves it: each side sends a fresh nonce in its `hello` and answers the other's
 * with a `proof`, a signature over a domain string, the protocol version, the network and genesis, both node
 * ids, both nonces and its own listen address. That binds the proof to this link: a node in the middle cannot
 * relay one side's proof to the other (the ids and nonces it saw are its own), and a proof made for one
 * purpose is no signature on anything else.
 * @module
 */
import { exportPrivateKey, generateKeyPair, importPrivateKey, sign, verify } from "../crypto/ed25519.ts";
import { fromHex, isHex, toHex } from "../crypto/hex.ts";
import { readTextIfExists } from "../runtime/atomic_file.ts";

/** The domain string every handshake proof signs first: a proof is valid for this purpose only. */
export const HELLO_DOMAIN = "peerchain-hello-v3";
/** Bytes of the nonce each side sends in its `hello`. */
export const NONCE_BYTES = 32;
/** The node key's file in a data directory. */
export const NODE_KEY_FILE = "node_key";

/** What a node proves itself with: its id and a way to sign with the key behind it. */
export interface NodeIdentity {
  /** The node id: the public key in lowercase hex (or, in the simulation, its stand-in). */
  readonly nodeId: string;
  /** Signs `message` with the node key. */
  sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>>;
}

/** True when `signature` is `nodeId`'s signature of `message`; false for anything malformed. */
export type SignatureCheck = (
  nodeId: string,
  signature: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
) => Promise<boolean>;

/** Checks an Ed25519 signature by a node id that is a 32-byte public key in lowercase hex. */
export function ed25519Check(
  nodeId: string,
  signature: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (!isHex(nodeId, 32) || nodeId !== nodeId.toLowerCase()) return Promise.resolve(false);
  return verify(fromHex(nodeId), signature, message);
}

/** An identity from a key pair: its id is the public key in hex. */
export function identityOf(privateKey: CryptoKey, publicKey: Uint8Array): NodeIdentity {
  return { nodeId: toHex(publicKey), sign: (m) => sign(privateKey, m) };
}

/** A fresh identity that lives only in memory (tests, throw-away nodes). */
export async function generateIdentity(): Promise<NodeIdentity> {
  const { privateKey, publicKey } = await generateKeyPair();
  return identityOf(privateKey, publicKey);
}

/** A node key file that is not one (bad PEM-less hex, wrong key type): the data directory needs a look. */
export class NodeKeyError extends Error {
  /** Creates the error; `message` says which file and why. */
  constructor(message: string) {
    super(message);
    this.name = "NodeKeyError";
  }
}

/**
 * The identity kept in `dir`/`node_key` (PKCS#8, hex, one line), made and written with mode 0600 the first
 * time, so a node keeps its id across restarts. A file that holds no Ed25519 key is an error, never
 * overwritten: the person decides. A key file others may read is narrowed to 0600 (a Unix mode; elsewhere
 * nothing changes).
 */
export async function loadOrCreateIdentity(dir: string): Promise<NodeIdentity> {
  const path = `${dir}/${NODE_KEY_FILE}`;
  const text = await readTextIfExists(path);
  if (text !== undefined) {
    const hex = text.trim();
    if (!/^([0-9a-f]{2})+$/.test(hex)) throw new NodeKeyError(`${path}: not a node key (expected hex)`);
    let kp;
    try {
      kp = await importPrivateKey(fromHex(hex));
    } catch (e) {
      throw new NodeKeyError(`${path}: not an Ed25519 node key (${(e as Error).message})`);
    }
    if (Deno.build.os !== "windows") {
      const st = await Deno.stat(path);
      if (st.mode !== null && (st.mode & 0o077) !== 0) await Deno.chmod(path, 0o600);
    }
    return identityOf(kp.privateKey, kp.publicKey);
  }
  const kp = await generateKeyPair();
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, toHex(await exportPrivateKey(kp.privateKey)) + "\n", { mode: 0o600 });
  if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o600); // the umask may have narrowed it further only
  await Deno.rename(tmp, path);
  return identityOf(kp.privateKey, kp.publicKey);
}

/** What a handshake proof covers, from the signer's side. */
export interface ProofFields {
  /** The protocol version both speak (the signer's). */
  protocol: number;
  /** The network name. */
  network: string;
  /** The genesis hash. */
  genesis: string;
  /** The signer's node id. */
  signer: string;
  /** The node id of the far end, as its hello said. */
  other: string;
  /** The nonce the signer sent. */
  signerNonce: string;
  /** The nonce the far end sent. */
  otherNonce: string;
  /** The signer's listen address ("" when it has none). */
  listen: string;
}

/** The bytes a handshake proof signs: the domain string, then every field, in an unambiguous encoding. */
export function proofMessage(f: ProofFields): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify([
    HELLO_DOMAIN,
    f.protocol,
    f.network,
    f.genesis,
    f.signer,
    f.other,
    f.signerNonce,
    f.otherNonce,
    f.listen,
  ])) as Uint8Array<ArrayBuffer>;
}

/** The domain string a directory entry's signature covers first. */
export const ENTRY_DOMAIN = "peerchain-dir-v1";
/** The domain string a withdrawal of an entry covers first. */
export const REMOVE_DOMAIN = "peerchain-dir-remove-v1";

/** What a SuperPeer signs about itself (a directory entry without its signature). */
export interface EntryFields {
  /** Its node id (the key that signs). */
  nodeId: string;
  /** Where it listens. */
  listen: string;
  /** Peers holding it as primary. */
  peers: number;
  /** Peers linked to it. */
  load: number;
  /** The most Peers it serves. */
  capacity: number;
  /** Its own counter. */
  seq: number;
}

/** The bytes a directory entry's signature covers: the domain string, then every field but the signature. */
export function entryMessage(e: EntryFields): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    JSON.stringify([ENTRY_DOMAIN, e.nodeId, e.listen, e.peers, e.load, e.capacity, e.seq]),
  ) as Uint8Array<ArrayBuffer>;
}

/** The bytes a withdrawal signs: only the node itself can withdraw its entry, as of its own `seq`. */
export function removalMessage(nodeId: string, seq: number): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify([REMOVE_DOMAIN, nodeId, seq])) as Uint8Array<ArrayBuffer>;
}

/** A fresh nonce for a hello, lowercase hex. */
export function freshNonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
}
