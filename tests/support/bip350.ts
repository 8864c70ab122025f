/** The test vectors of BIP-350 (bech32m). */

/** BIP-350's valid bech32m strings. */
export const BIP350_VALID: readonly string[] = [
  "A1LQFN3A",
  "a1lqfn3a",
  "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
  "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
  "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
  "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
  "?1v759aa",
];

/** BIP-350's invalid strings, each with why. */
export const BIP350_INVALID: readonly [string, string][] = [
  ["\x201xj0phk", "HRP character out of range"],
  ["\x7f1g6xzxy", "HRP character out of range"],
  ["\x801vctc34", "HRP character out of range"],
  [
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "overall max length exceeded",
  ],
  ["qyrz8wqd2c9m", "no separator character"],
  ["1qyrz8wqd2c9m", "empty HRP"],
  ["y1b0jsk6g", "invalid data character"],
  ["lt1igcx5c0", "invalid data character"],
  ["in1muywd", "too short checksum"],
  ["mm1crxm3i", "invalid character in checksum"],
  ["au1s5cgom", "invalid character in checksum"],
  ["M1VUXWEZ", "checksum calculated with uppercase form of HRP"],
  ["16plkw9", "empty HRP"],
  ["1p2gdwpf", "empty HRP"],
];
