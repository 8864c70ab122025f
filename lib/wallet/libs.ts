/**
 * The wallet's npm libraries, in one module that the wallet loads only when it needs them (making or checking
 * seed words, sealing or opening secrets), through `loadLibs` in lib/wallet/seed.ts: a headless node or a
 * subcommand whose wallet is already made then starts with no npm package, as the menu's prompt library is
 * kept out of the start-up graph. scripts/compile.sh includes this file in the binary explicitly.
 * @module
 */
export { entropyToMnemonic, validateMnemonic } from "@scure/bip39";
export { wordlist } from "@scure/bip39/wordlists/english.js";
export { scryptAsync } from "@noble/hashes/scrypt.js";
