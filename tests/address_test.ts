import assert from "node:assert/strict";
import fc from "fast-check";
import { NETWORKS } from "../lib/consensus/params.ts";
import {
  AddressError,
  type AddressProblem,
  bech32mDecode,
  bech32mEncode,
  decodeAddress,
  encodeAddress,
  pubKeyHash,
} from "../lib/crypto/address.ts";
import { generateKeyPair } from "../lib/crypto/ed25519.ts";
import { BIP350_INVALID, BIP350_VALID } from "./support/bip350.ts";

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const MAIN = NETWORKS.main.addressPrefix, REGTEST = NETWORKS.regtest.addressPrefix;

/** A key hash and its addresses, computed with a separate transcription of BIP-350's reference code. */
const PKH = "751e76e8199196d454941c45d1b3a323f1433bd6";
const MAIN_ADDRESS = "pc1w508d6qejxtdg4y5r3zarvary0c5xw7kd3mc2d";
const REGTEST_ADDRESS = "pcrt1w508d6qejxtdg4y5r3zarvary0c5xw7kxvvly6";

function problemOf(f: () => unknown): AddressProblem {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof AddressError, `expected an AddressError, got ${e}`);
    return e.problem;
  }
  assert.fail("accepted");
}

Deno.test("bech32m: BIP-350 valid vectors decode and re-encode to themselves", () => {
  for (const s of BIP350_VALID) {
    const { hrp, data } = bech32mDecode(s);
    assert.equal(bech32mEncode(hrp, data), s.toLowerCase(), s);
  }
  assert.deepEqual(bech32mDecode("A1LQFN3A"), { hrp: "a", data: [] });
  assert.equal(bech32mEncode("a", []), "a1lqfn3a");
});

Deno.test("bech32m: BIP-350 invalid vectors are refused", () => {
  for (const [s] of BIP350_INVALID) assert.throws(() => bech32mDecode(s), AddressError, JSON.stringify(s));
});

Deno.test("bech32m: a bech32 (BIP-173) checksum is not a bech32m checksum", () => {
  for (const s of ["A12UEL5L", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "?1ezyfcl"]) {
    assert.equal(problemOf(() => bech32mDecode(s)), "checksum", s);
  }
});

Deno.test("bech32mEncode refuses what it cannot encode", () => {
  assert.throws(() => bech32mEncode("", []), TypeError);
  assert.throws(() => bech32mEncode("PC", []), TypeError);
  assert.throws(() => bech32mEncode("pc", [32]), TypeError);
  assert.throws(() => bech32mEncode("pc", [1.5]), TypeError);
  assert.throws(() => bech32mEncode("pc", new Array(83).fill(0)), TypeError);
});

Deno.test("pubKeyHash is the first 20 bytes of SHA-256 of the key", async () => {
  assert.equal(pubKeyHash(new Uint8Array()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4");
  const { publicKey } = await generateKeyPair();
  const full = new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey));
  assert.equal(pubKeyHash(publicKey), full.subarray(0, 20).toHex());
});

Deno.test("encodeAddress and decodeAddress: known addresses of both networks", () => {
  assert.equal(encodeAddress(PKH, MAIN), MAIN_ADDRESS);
  assert.equal(encodeAddress(PKH, REGTEST), REGTEST_ADDRESS);
  assert.equal(encodeAddress("00".repeat(20), REGTEST), "pcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0jm6vl");
  assert.equal(decodeAddress(MAIN_ADDRESS, MAIN), PKH);
  assert.equal(decodeAddress(REGTEST_ADDRESS, REGTEST), PKH);
  assert.equal(encodeAddress(PKH.toUpperCase(), MAIN), MAIN_ADDRESS, "uppercase hex is the same key hash");
  assert.throws(() => encodeAddress(PKH.slice(2), MAIN), TypeError);
  assert.throws(() => encodeAddress("zz" + PKH.slice(2), MAIN), TypeError);
});

Deno.test("decodeAddress: uppercase accepted, mixed case and stray characters refused", () => {
  assert.equal(decodeAddress(REGTEST_ADDRESS.toUpperCase(), REGTEST), PKH);
  assert.equal(decodeAddress(`  ${REGTEST_ADDRESS}\n`, REGTEST), PKH, "surrounding whitespace is ignored");
  const mixed = REGTEST_ADDRESS.slice(0, 10) + REGTEST_ADDRESS.slice(10).toUpperCase();
  assert.equal(problemOf(() => decodeAddress(mixed, REGTEST)), "case");
  assert.throws(() => decodeAddress(mixed, REGTEST), /mixes upper and lower case/);
  for (const c of ["b", "i", "o", " ", "é", "\u0000"]) {
    const bad = REGTEST_ADDRESS.slice(0, 12) + c + REGTEST_ADDRESS.slice(13);
    assert.equal(problemOf(() => decodeAddress(bad, REGTEST)), "character", JSON.stringify(c));
  }
  assert.throws(() => decodeAddress(REGTEST_ADDRESS.replace("x", "b"), REGTEST), /invalid character 'b'/);
  assert.equal(problemOf(() => decodeAddress("", REGTEST)), "format");
  assert.equal(problemOf(() => decodeAddress(REGTEST_ADDRESS.slice(5), REGTEST)), "format");
  assert.equal(problemOf(() => decodeAddress(REGTEST_ADDRESS + "q".repeat(60), REGTEST)), "length");
});

Deno.test("decodeAddress: a well-formed address with the wrong amount of data is a length error", () => {
  for (const data of [new Array(31).fill(3), new Array(33).fill(3), new Array(40).fill(0)]) {
    const s = bech32mEncode(REGTEST, data);
    assert.equal(problemOf(() => decodeAddress(s, REGTEST)), "length", s);
  }
  assert.throws(() => decodeAddress(bech32mEncode(REGTEST, new Array(31).fill(0)), REGTEST), /missing/);
});

Deno.test("decodeAddress: another network's address is refused, naming both prefixes", () => {
  let err: unknown;
  try {
    decodeAddress(MAIN_ADDRESS, REGTEST);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof AddressError);
  assert.equal(err.problem, "prefix");
  assert.equal(err.otherPrefix, MAIN);
  assert.match(err.message, /another network.*"pc1".*"pcrt1"/);
  assert.equal(problemOf(() => decodeAddress(REGTEST_ADDRESS, MAIN)), "prefix");
  assert.equal(problemOf(() => decodeAddress(REGTEST_ADDRESS.toUpperCase(), MAIN)), "prefix");
});

for (const [prefix, address] of [[MAIN, MAIN_ADDRESS], [REGTEST, REGTEST_ADDRESS]]) {
  Deno.test(`decodeAddress(${prefix}): every single-character substitution is refused`, () => {
    let tried = 0;
    for (let i = 0; i < address.length; i++) {
      for (const c of CHARSET + "1") {
        if (c === address[i]) continue;
        const typo = address.slice(0, i) + c + address.slice(i + 1);
        const problem = problemOf(() => decodeAddress(typo, prefix));
        // BCH guarantees the checksum catches one error anywhere in the prefix or the data.
        if (i !== prefix.length && c !== "1") assert.equal(problem, "checksum", typo);
        tried++;
      }
    }
    assert.ok(tried >= address.length * 31, `${tried} substitutions`);
  });

  Deno.test(`decodeAddress(${prefix}): every deletion, insertion and adjacent swap is refused`, () => {
    for (let i = 0; i < address.length; i++) {
      assert.throws(() => decodeAddress(address.slice(0, i) + address.slice(i + 1), prefix), AddressError);
    }
    for (let i = 0; i <= address.length; i++) {
      for (const c of CHARSET) {
        const typo = address.slice(0, i) + c + address.slice(i);
        assert.throws(() => decodeAddress(typo, prefix), AddressError, typo);
      }
    }
    for (let i = 0; i + 1 < address.length; i++) {
      if (address[i] === address[i + 1]) continue;
      const typo = address.slice(0, i) + address[i + 1] + address[i] + address.slice(i + 2);
      assert.throws(() => decodeAddress(typo, prefix), AddressError, typo);
    }
  });
}

Deno.test("decodeAddress: the checksum message says what to do", () => {
  const typo = REGTEST_ADDRESS.slice(0, 20) + (REGTEST_ADDRESS[20] === "q" ? "p" : "q") +
    REGTEST_ADDRESS.slice(21);
  assert.throws(() => decodeAddress(typo, REGTEST), {
    name: "AddressError",
    message: "checksum mismatch: a character is mistyped or missing",
  });
});

Deno.test("addresses round-trip for random key hashes on both networks, in either case", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.constantFrom(MAIN, REGTEST), (b, p) => {
      const hex = b.toHex();
      const address = encodeAddress(hex, p);
      assert.equal(address.length, p.length + 1 + 38);
      assert.equal(address, address.toLowerCase());
      assert.equal(decodeAddress(address, p), hex);
      assert.equal(decodeAddress(address.toUpperCase(), p), hex);
      assert.throws(() => decodeAddress(address, p === MAIN ? REGTEST : MAIN), AddressError);
    }),
    { numRuns: 300 },
  );
});

Deno.test("random single substitutions in random addresses are refused", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.nat(),
      fc.integer({ min: 1, max: 31 }),
      (b, at, shift) => {
        const address = encodeAddress(b.toHex(), REGTEST);
        const i = REGTEST.length + 1 + (at % 38);
        const c = CHARSET[(CHARSET.indexOf(address[i]) + shift) % 32];
        const typo = address.slice(0, i) + c + address.slice(i + 1);
        assert.equal(problemOf(() => decodeAddress(typo, REGTEST)), "checksum");
      },
    ),
    { numRuns: 300 },
  );
});
