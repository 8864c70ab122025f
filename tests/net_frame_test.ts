import assert from "node:assert/strict";
import { fc } from "./support/test_deps.ts";
import {
  decodeFrameBody,
  encodeFrame,
  FrameDecoder,
  FrameError,
  type FrameObject,
  MAX_FRAME,
} from "../lib/net/frame.ts";
import { concat, rawFrame } from "./support/hostile.ts";

function drain(d: FrameDecoder, chunks: Uint8Array[]): FrameObject[] {
  const out: FrameObject[] = [];
  for (const c of chunks) out.push(...d.decode(c));
  return out;
}

const MESSAGES = [
  { type: "ping", nonce: 1 },
  { type: "reject", code: "x", reason: "héllo ✓ 𝄞 multi-byte" },
  { type: "inv", kind: "tx", ids: ["ab".repeat(32)] },
  { type: "" },
];

Deno.test("encodeFrame writes a big-endian length then UTF-8 JSON", () => {
  const f = encodeFrame({ type: "ping", nonce: 7 });
  const body = new TextEncoder().encode('{"type":"ping","nonce":7}');
  assert.deepEqual([...f.subarray(0, 4)], [0, 0, 0, body.length]);
  assert.deepEqual(f.subarray(4), body);
  const multi = encodeFrame({ type: "𝄞" });
  assert.equal(new DataView(multi.buffer).getUint32(0), multi.length - 4);
  assert.deepEqual(decodeFrameBody(multi.subarray(4)), { type: "𝄞" });
});

Deno.test("frames split at every byte boundary reassemble", () => {
  const stream = concat(...MESSAGES.map(encodeFrame));
  for (let i = 0; i <= stream.length; i++) {
    const got = drain(new FrameDecoder(), [stream.subarray(0, i), stream.subarray(i)]);
    assert.deepEqual(got, MESSAGES, `split at ${i}`);
  }
  for (let i = 0; i <= stream.length; i += 3) {
    for (let j = i; j <= stream.length; j += 5) {
      const got = drain(new FrameDecoder(), [
        stream.subarray(0, i),
        stream.subarray(i, j),
        stream.subarray(j),
      ]);
      assert.deepEqual(got, MESSAGES, `split at ${i},${j}`);
    }
  }
  const bytes = [...stream].map((b) => Uint8Array.of(b));
  const d = new FrameDecoder();
  assert.deepEqual(drain(d, bytes), MESSAGES);
  assert.equal(d.buffered, 0);
});

Deno.test("a 100 MiB length prefix is refused before any body is buffered", () => {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, 100 * 1024 * 1024);
  const d = new FrameDecoder();
  assert.throws(() => d.push(header), FrameError);
  assert.equal(d.buffered, 0);
  // Once out of sync the decoder stays failed rather than reading garbage as frames.
  assert.throws(() => d.push(new Uint8Array(10)), FrameError);
  assert.throws(() => d.next(), FrameError);

  // The prefix split over two chunks, and a prefix followed by a large body chunk, are refused alike.
  const d2 = new FrameDecoder();
  d2.push(header.subarray(0, 2));
  assert.throws(() => d2.push(concat(header.subarray(2), new Uint8Array(1 << 20))), FrameError);
  assert.equal(d2.buffered, 0);

  // After a good frame in the same chunk, the good frame still comes out first.
  const d3 = new FrameDecoder();
  d3.push(concat(encodeFrame({ type: "ok" }), header));
  assert.deepEqual(d3.next(), { type: "ok" });
  assert.throws(() => d3.next(), FrameError);
});

Deno.test("the length limit is exactly MAX_FRAME", () => {
  const over = new Uint8Array(4);
  new DataView(over.buffer).setUint32(0, MAX_FRAME + 1);
  assert.throws(() => new FrameDecoder().push(over), FrameError);
  const pad = MAX_FRAME - '{"type":"x","p":""}'.length;
  const big = encodeFrame({ type: "x", p: "a".repeat(pad) });
  assert.equal(big.length, 4 + MAX_FRAME);
  const d = new FrameDecoder();
  for (let off = 0; off < big.length; off += 65536) d.push(big.subarray(off, off + 65536));
  assert.equal((d.next()?.p as string).length, pad);
  assert.throws(() => encodeFrame({ type: "x", p: "a".repeat(pad + 1) }), FrameError);
  // Multi-byte characters count as bytes, not UTF-16 units.
  assert.throws(() => encodeFrame({ type: "x", p: "é".repeat(MAX_FRAME / 2) }), FrameError);
});

Deno.test("bad bodies are FrameErrors: invalid UTF-8, invalid JSON, non-object, untyped", () => {
  const te = new TextEncoder();
  const bad: Uint8Array[] = [
    Uint8Array.of(0x7b, 0xff, 0x7d),
    Uint8Array.of(0xed, 0xa0, 0x80), // a UTF-16 surrogate encoded as UTF-8
    te.encode("{"),
    te.encode(""),
    te.encode("null"),
    te.encode("[1,2]"),
    te.encode('"type"'),
    te.encode("42"),
    te.encode("{}"),
    te.encode('{"type":5}'),
    te.encode("[".repeat(200_000)),
  ];
  for (const body of bad) {
    assert.throws(() => decodeFrameBody(body), FrameError);
    const d = new FrameDecoder();
    d.push(rawFrame(body));
    assert.throws(() => d.next(), FrameError);
  }
});

Deno.test("encodeFrame refuses what JSON cannot carry", () => {
  assert.throws(() => encodeFrame({ type: "x", n: 1n }), FrameError);
  const cyclic: Record<string, unknown> = { type: "x" };
  cyclic.self = cyclic;
  assert.throws(() => encodeFrame(cyclic), FrameError);
});

Deno.test("random bytes never throw anything but FrameError past the decoder", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
      const d = new FrameDecoder();
      try {
        for (const c of chunks) for (const f of d.decode(c)) assert.equal(typeof f.type, "string");
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
  // Valid length prefixes with random bodies exercise the UTF-8 and JSON paths, not just the length check.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 70 }), (body, cut) => {
      const d = new FrameDecoder();
      const f = rawFrame(body);
      try {
        [...d.decode(f.subarray(0, cut)), ...d.decode(f.subarray(cut))];
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("any JSON object with a string type survives encode and decode", () => {
  fc.assert(
    fc.property(fc.string(), fc.dictionary(fc.string(), fc.jsonValue()), (type, rest) => {
      const msg = { ...rest, type };
      const d = new FrameDecoder();
      const got = [...d.decode(encodeFrame(msg))];
      assert.deepEqual(got, [JSON.parse(JSON.stringify(msg))]);
    }),
    { numRuns: 300 },
  );
});
