/**
 * Addresses (lib/crypto/address.ts) as a person meets them: BIP-350's bech32m vectors, a reference bit
 * conversion checked against real segwit v1+ payloads, known addresses of both networks, and exhaustive sweeps
 * of single typos (substitution, deletion, insertion, adjacent swap) on real addresses, which must all be
 * refused with an `AddressError`, by the codec and by the wallet, and never accepted as another key.
 */
import assert from "node:assert/strict";
import { fc } from "./support/test_deps.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import {
  AddressError,
  bech32mDecode,
  bech32mEncode,
  decodeAddress,
  encodeAddress,
  pubKeyHash,
} from "../lib/crypto/address.ts";
import { generateKeyPair } from "../lib/crypto/ed25519.ts";
import { Wallet } from "../lib/wallet/wallet.ts";
import { BIP350_INVALID, BIP350_VALID } from "./support/bip350.ts";

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const MAIN = NETWORKS.main.addressPrefix;
const REGTEST = NETWORKS.regtest.addressPrefix;

/** A key hash and its addresses, computed with a separate transcription of BIP-350's reference code. */
const PKH = "751e76e8199196d454941c45d1b3a323f1433bd6";
const MAIN_ADDRESS = "pc1w508d6qejxtdg4y5r3zarvary0c5xw7kd3mc2d";
const REGTEST_ADDRESS = "pcrt1w508d6qejxtdg4y5r3zarvary0c5xw7kxvvly6";

/** BIP-173 valid strings: bech32, whose checksum constant differs, so bech32m must refuse them. */
const BECH32_ONLY = [
  "A12UEL5L",
  "a12uel5l",
  "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
  "split1checkupstagehandshakeupstreamerranterredcaperredert76",
  "?1ezyfcl",
];

/** BIP-350 segwit v1+ addresses: [address, witness version, program hex]. */
const SEGWIT_M: [string, number, string][] = [
  [
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
    1,
    "751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
  ],
  ["BC1SW50QGDZ25J", 16, "751e"],
  ["bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", 2, "751e76e8199196d454941c45d1b3a323"],
  [
    "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
    1,
    "000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
  ],
  [
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    1,
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
  ],
];

/** Bytes to 5-bit groups through a bit string: slow, obvious, and independent of the code under test. */
function refTo5(hex: string): number[] {
  const bits = [...Uint8Array.fromHex(hex)].map((b) => b.toString(2).padStart(8, "0")).join("");
  const padded = bits.padEnd(Math.ceil(bits.length / 5) * 5, "0");
  return Array.from({ length: padded.length / 5 }, (_, i) => parseInt(padded.slice(5 * i, 5 * i + 5), 2));
}

/** The inverse of `refTo5`, dropping the padding bits (which must be zero). */
function refFrom5(data: number[]): string {
  const bits = data.map((d) => d.toString(2).padStart(5, "0")).join("");
  const whole = bits.slice(0, bits.length - (bits.length % 8));
  assert.ok(/^0*$/.test(bits.slice(whole.length)), "padding bits are zero");
  return Array.from({ length: whole.length / 8 }, (_, i) => parseInt(whole.slice(8 * i, 8 * i + 8), 2))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Asserts `f` throws an `AddressError` (never another type, never success); returns it. */
function refused(f: () => unknown, what: string): AddressError {
  let error: unknown;
  try {
    const result = f();
    assert.fail(`${what}: accepted, giving ${JSON.stringify(result)}`);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof AddressError, `${what}: expected an AddressError, got ${error}`);
  return error;
}

const randomPkh = () => crypto.getRandomValues(new Uint8Array(20)).toHex();

Deno.test("bech32m: BIP-350 valid vectors decode, and re-encode to their lowercase form", () => {
  for (const v of BIP350_VALID) {
    const { hrp, data } = bech32mDecode(v);
    assert.equal(hrp, v.slice(0, v.lastIndexOf("1")).toLowerCase(), v);
    assert.equal(bech32mEncode(hrp, data), v.toLowerCase(), v);
  }
  assert.deepEqual(bech32mDecode("A1LQFN3A"), { hrp: "a", data: [] });
  assert.equal(bech32mEncode("a", []), "a1lqfn3a");
  const abc = bech32mDecode("abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx");
  assert.deepEqual(abc.data, Array.from({ length: 32 }, (_, i) => 31 - i), "the charset read backwards");
  const ones = bech32mDecode(BIP350_VALID[4]);
  assert.equal(ones.hrp, "1");
  assert.equal(BIP350_VALID[4].length, 90, "the longest string allowed");
  assert.deepEqual(ones.data, new Array(82).fill(31));
});

Deno.test("bech32m: BIP-350 invalid vectors and BIP-173 bech32 strings are refused with AddressError", () => {
  for (const [v, why] of BIP350_INVALID) refused(() => bech32mDecode(v), `${JSON.stringify(v)} (${why})`);
  for (const v of BECH32_ONLY) {
    assert.equal(refused(() => bech32mDecode(v), v).problem, "checksum", v);
  }
  // As addresses too: whatever the reason, the caller only ever sees an AddressError.
  for (const [v] of BIP350_INVALID) refused(() => decodeAddress(v, MAIN), JSON.stringify(v));
});

Deno.test("bech32mEncode refuses what it cannot encode", () => {
  assert.throws(() => bech32mEncode("", []), TypeError);
  assert.throws(() => bech32mEncode("PC", []), TypeError);
  assert.throws(() => bech32mEncode("pc", [32]), TypeError);
  assert.throws(() => bech32mEncode("pc", [1.5]), TypeError);
  assert.throws(() => bech32mEncode("pc", new Array(83).fill(0)), TypeError);
});

Deno.test("bech32m: segwit v1+ vectors carry exactly their programs, by a reference bit conversion", () => {
  for (const [address, version, program] of SEGWIT_M) {
    const { hrp, data } = bech32mDecode(address);
    assert.equal(data[0], version, address);
    assert.equal(refFrom5(data.slice(1)), program, address);
    assert.equal(bech32mEncode(hrp, [version, ...refTo5(program)]), address.toLowerCase());
  }
});

Deno.test("bech32m: random prefixes and data round-trip", () => {
  const hrpChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c).toLowerCase());
  fc.assert(
    fc.property(
      fc.array(hrpChar, { minLength: 1, maxLength: 20 }).map((cs) => cs.join("")),
      fc.array(fc.integer({ min: 0, max: 31 }), { maxLength: 50 }),
      (hrp, data) => {
        assert.deepEqual(bech32mDecode(bech32mEncode(hrp, data)), { hrp, data });
      },
    ),
    { numRuns: 300 },
  );
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

Deno.test("encodeAddress: the data part is the key hash in 5-bit groups, and decodeAddress inverts it", () => {
  assert.equal(encodeAddress("00".repeat(20), MAIN), bech32mEncode(MAIN, new Array(32).fill(0)));
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.constantFrom(MAIN, REGTEST),
      fc.boolean(),
      (bytes, prefix, upperHex) => {
        const hex = bytes.toHex();
        const address = encodeAddress(upperHex ? hex.toUpperCase() : hex, prefix);
        assert.equal(address, bech32mEncode(prefix, refTo5(hex)));
        assert.equal(address, address.toLowerCase());
        assert.equal(address.length, prefix.length + 1 + 38);
        assert.equal(decodeAddress(address, prefix), hex);
        assert.equal(decodeAddress(address.toUpperCase(), prefix), hex);
        assert.equal(refFrom5(bech32mDecode(address).data), hex);
        refused(() => decodeAddress(address, prefix === MAIN ? REGTEST : MAIN), "the other network");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("decodeAddress: stray characters, empty and cut strings are refused with the problem named", () => {
  const problemOf = (s: string) => refused(() => decodeAddress(s, REGTEST), JSON.stringify(s)).problem;
  for (const c of ["b", "i", "o", " ", "é", "\u0000"]) {
    assert.equal(problemOf(REGTEST_ADDRESS.slice(0, 12) + c + REGTEST_ADDRESS.slice(13)), "character", c);
  }
  assert.throws(() => decodeAddress(REGTEST_ADDRESS.replace("x", "b"), REGTEST), /invalid character 'b'/);
  assert.equal(problemOf(""), "format");
  assert.equal(problemOf(REGTEST_ADDRESS.slice(5)), "format");
  assert.equal(problemOf(REGTEST_ADDRESS + "q".repeat(60)), "length");
});

Deno.test("decodeAddress: whitespace around is ignored, anything else around or inside is not", () => {
  const pkh = randomPkh(), address = encodeAddress(pkh, MAIN);
  assert.equal(decodeAddress(`  ${address}\n`, MAIN), pkh);
  assert.equal(decodeAddress(`\t${address}\r\n`, MAIN), pkh);
  const mid = MAIN.length + 10;
  for (const bad of [address.slice(0, mid) + " " + address.slice(mid), `"${address}"`, `${address}.`, ""]) {
    refused(() => decodeAddress(bad, MAIN), JSON.stringify(bad));
  }
});

Deno.test("decodeAddress: a valid bech32m string with the wrong amount of data is a length error", () => {
  for (const n of [0, 1, 31, 33, 40]) {
    const s = bech32mEncode(MAIN, new Array(n).fill(7));
    assert.equal(refused(() => decodeAddress(s, MAIN), `${n} groups`).problem, "length");
  }
  assert.throws(() => decodeAddress(bech32mEncode(REGTEST, new Array(31).fill(0)), REGTEST), /missing/);
});

Deno.test("decodeAddress: the checksum message says what to do", () => {
  const typo = REGTEST_ADDRESS.slice(0, 20) + (REGTEST_ADDRESS[20] === "q" ? "p" : "q") +
    REGTEST_ADDRESS.slice(21);
  assert.throws(() => decodeAddress(typo, REGTEST), {
    name: "AddressError",
    message: "checksum mismatch: a character is mistyped or missing",
  });
});

for (const network of [NETWORKS.main, NETWORKS.regtest]) {
  const prefix = network.addressPrefix;

  Deno.test(`a real ${network.name} address: every single-character substitution is refused`, async () => {
    const pkh = randomPkh(), address = encodeAddress(pkh, prefix);
    const wallet = await Wallet.createInMemory(network);
    assert.equal(wallet.parseAddress(address), pkh, "the unaltered address is accepted");
    // Every data character, plus the separator and the letters bech32 leaves out, and the prefix's own letters.
    const replacements = [...new Set([...CHARSET, "1", "b", "i", "o", ..."abcdefghijklmnopqrstuvwxyz"])];
    let tried = 0;
    for (let i = 0; i < address.length; i++) {
      for (const c of replacements) {
        if (c === address[i]) continue;
        const typo = address.slice(0, i) + c + address.slice(i + 1);
        const { problem } = refused(() => decodeAddress(typo, prefix), `${typo} (position ${i} -> ${c})`);
        // BCH guarantees the checksum catches one error anywhere in the prefix or the data.
        if (i !== prefix.length && c !== "1" && (CHARSET.includes(c) || i < prefix.length)) {
          assert.equal(problem, "checksum", typo);
        }
        refused(() => wallet.parseAddress(typo), typo);
        refused(() => decodeAddress(typo.toUpperCase(), prefix), typo.toUpperCase());
        tried++;
      }
    }
    assert.ok(tried >= address.length * (replacements.length - 1), `${tried} substitutions`);
  });

  Deno.test(`a real ${network.name} address: every deletion, insertion and adjacent swap is refused`, () => {
    const address = encodeAddress(randomPkh(), prefix);
    for (let i = 0; i < address.length; i++) {
      const typo = address.slice(0, i) + address.slice(i + 1);
      refused(() => decodeAddress(typo, prefix), `${typo} (deleted position ${i})`);
    }
    let tried = 0;
    for (let i = 0; i <= address.length; i++) {
      for (const c of CHARSET + "1") {
        const typo = address.slice(0, i) + c + address.slice(i);
        refused(() => decodeAddress(typo, prefix), `${typo} (inserted ${c} at ${i})`);
        tried++;
      }
    }
    assert.equal(tried, (address.length + 1) * 33);
    for (let i = 0; i + 1 < address.length; i++) {
      if (address[i] === address[i + 1]) continue;
      const typo = address.slice(0, i) + address[i + 1] + address[i] + address.slice(i + 2);
      refused(() => decodeAddress(typo, prefix), `${typo} (swapped ${i} and ${i + 1})`);
    }
  });
}

Deno.test("random addresses: a random substitution (a checksum error) or adjacent swap is never accepted", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.constantFrom(MAIN, REGTEST),
      fc.nat(),
      fc.constantFrom(...CHARSET),
      (bytes, prefix, at, c) => {
        const address = encodeAddress(bytes.toHex(), prefix);
        const i = prefix.length + 1 + (at % 38);
        fc.pre(address[i] !== c);
        const typo = address.slice(0, i) + c + address.slice(i + 1);
        assert.equal(refused(() => decodeAddress(typo, prefix), "substitution").problem, "checksum");
        const j = i === address.length - 1 ? i - 1 : i;
        fc.pre(address[j] !== address[j + 1]);
        const swapped = address.slice(0, j) + address[j + 1] + address[j] + address.slice(j + 2);
        refused(() => decodeAddress(swapped, prefix), "swap");
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("another network's address is refused, naming both networks", async () => {
  const pkh = randomPkh();
  const mainWallet = await Wallet.createInMemory(NETWORKS.main);
  const regtestWallet = await Wallet.createInMemory(NETWORKS.regtest);
  const onMain = refused(() => mainWallet.parseAddress(encodeAddress(pkh, REGTEST)), "regtest on main");
  assert.equal(onMain.problem, "prefix");
  assert.equal(onMain.otherPrefix, REGTEST);
  assert.match(onMain.message, /regtest/);
  assert.match(onMain.message, /main/);
  const onRegtest = refused(() => regtestWallet.parseAddress(encodeAddress(pkh, MAIN)), "main on regtest");
  assert.equal(onRegtest.otherPrefix, MAIN);
  assert.match(onRegtest.message, /\bmain\b.*\bregtest\b/);
  // Uppercase does not smuggle it past the check.
  refused(() => regtestWallet.parseAddress(encodeAddress(pkh, MAIN).toUpperCase()), "uppercase main");
  assert.equal(refused(() => decodeAddress(REGTEST_ADDRESS, MAIN), "lower").problem, "prefix");
  assert.equal(refused(() => decodeAddress(REGTEST_ADDRESS.toUpperCase(), MAIN), "upper").problem, "prefix");
  // Without a network table, the low-level error names the prefixes.
  const low = refused(() => decodeAddress(MAIN_ADDRESS, REGTEST), "prefix");
  assert.equal(low.problem, "prefix");
  assert.equal(low.otherPrefix, MAIN);
  assert.match(low.message, /another network.*"pc1".*"pcrt1"/);
  // An unknown prefix is still refused, and keeps its prefix for the caller.
  const foreign = refused(() => regtestWallet.parseAddress(encodeAddress(pkh, "bc")), "bc");
  assert.equal(foreign.otherPrefix, "bc");
});

Deno.test("case: all uppercase is accepted, any mix of cases is refused", async () => {
  const pkh = randomPkh(), address = encodeAddress(pkh, REGTEST);
  const wallet = await Wallet.createInMemory(NETWORKS.regtest);
  assert.equal(wallet.parseAddress(address.toUpperCase()), pkh);
  assert.equal(decodeAddress(address.toUpperCase(), REGTEST), pkh);
  for (let i = 0; i < address.length; i++) {
    if (address[i] === address[i].toUpperCase()) continue; // digits have no case
    const mixed = address.slice(0, i) + address[i].toUpperCase() + address.slice(i + 1);
    assert.equal(refused(() => decodeAddress(mixed, REGTEST), mixed).problem, "case");
    const upperMixed = address.toUpperCase().slice(0, i) + address[i] + address.toUpperCase().slice(i + 1);
    assert.equal(refused(() => wallet.parseAddress(upperMixed), upperMixed).problem, "case");
  }
  assert.throws(() => decodeAddress(address.slice(0, 10) + address.slice(10).toUpperCase(), REGTEST), {
    message: /mixes upper and lower case/,
  });
});
