/**
 * The wasm SIMD kernel (built from asm/kernel.ts by scripts/build_kernel.sh) behind the `Kernel` interface.
 *
 * It is loaded by a dynamic import of `./kernel.wasm`, which `deno compile` embeds like any other module and
 * which needs no file permission at run time. One instance exists per realm (main thread or worker), so
 * `loadWasmKernel` returns wrappers over the same state: use one per realm.
 * @module
 */
import type { Kernel, KernelJob } from "./kernel.ts";

/** The exports of kernel.wasm. */
interface WasmExports {
  memory: WebAssembly.Memory;
  setJob(
    m0: number,
    m1: number,
    m2: number,
    m3: number,
    m4: number,
    m5: number,
    m6: number,
    m7: number,
    w0: number,
    w1: number,
    w2: number,
    top: number,
  ): void;
  scan(start: number, count: number): number;
  digest(nonce: number): number;
}

/** The wasm kernel: a `Kernel` that can also read every SIMD lane of one call. */
export interface WasmKernel extends Kernel {
  /**
   * The digests of nonces start, start+1, start+2 and start+3, as the four i32x4 lanes of one hash computed
   * them (lane j hashes start + j); `digest` reads lane 0 only.
   */
  digestLanes(start: number): Uint8Array[];
}

let cached: Promise<WasmExports | null> | undefined;

async function loadExports(): Promise<WasmExports | null> {
  try {
    return (await import("./kernel.wasm")) as unknown as WasmExports;
  } catch {
    // No wasm SIMD (or no wasm at all): the TypeScript kernel takes over.
    return null;
  }
}

/** Lane `lane` of the 8 v128 state words at `ptr`: a 32-byte digest (words are native little-endian u32s). */
function readLane(memory: WebAssembly.Memory, ptr: number, lane: number): Uint8Array {
  const view = new DataView(memory.buffer, ptr, 128);
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(i * 4, view.getUint32(i * 16 + lane * 4, true));
  return out;
}

/** The wasm SIMD kernel, or null when this runtime cannot run it. */
export async function loadWasmKernel(): Promise<WasmKernel | null> {
  cached ??= loadExports();
  const k = await cached;
  if (k === null) return null;
  return {
    name: "wasm-simd",
    setJob(job: KernelJob): void {
      const m = job.midstate;
      k.setJob(m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], job.w0, job.w1, job.w2, job.targetTop);
    },
    scan(start: number, count: number): number {
      return k.scan(start >>> 0, count >>> 0);
    },
    digest(nonce: number): Uint8Array {
      return readLane(k.memory, k.digest(nonce >>> 0), 0); // lane 0 hashes `nonce` itself
    },
    digestLanes(start: number): Uint8Array[] {
      const ptr = k.digest(start >>> 0);
      return [0, 1, 2, 3].map((lane) => readLane(k.memory, ptr, lane));
    },
  };
}
