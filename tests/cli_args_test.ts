/**
 * The command line without a node: parsing (in process) and the exit codes a real `cli.ts` process gives for
 * usage errors (2) and for a data directory no node answers for (3). Errors are one line on stderr, followed by
 * the usage for code 2.
 */
import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../lib/cli/args.ts";
import { assertRefusal, cli } from "./support/cli.ts";

Deno.test("parseArgs: defaults are run on main with the tracker in the current folder", () => {
  const a = parseArgs([]);
  assert.equal(a.command, "run");
  assert.equal(a.network, "main");
  assert.equal(a.tracker, "server_tracker.txt");
  assert.equal(a.dataDir, undefined);
  assert.equal(a.listen, undefined);
  assert.deepEqual(a.connect, []);
  assert.equal(a.headless, false);
  assert.equal(a.json, false);
  assert.equal(a.discover, false, "LAN discovery (UDP broadcast) is off unless asked for");
});

Deno.test("parseArgs: run flags, --flag=value, repeated --connect and a lone --", () => {
  const a = parseArgs([
    "--",
    "run",
    "--network=regtest",
    "--data-dir",
    "/tmp/x",
    "--listen",
    "127.0.0.1:9000",
    "--connect",
    "10.0.0.1:1",
    "--connect=10.0.0.2:2",
    "--headless",
    "--mine",
    "--threads",
    "3",
    "--rpc-port",
    "0",
    "--discover",
  ]);
  assert.equal(a.command, "run");
  assert.equal(a.network, "regtest");
  assert.equal(a.dataDir, "/tmp/x");
  assert.deepEqual(a.listen, { hostname: "127.0.0.1", port: 9000 });
  assert.deepEqual(a.connect, ["10.0.0.1:1", "10.0.0.2:2"]);
  assert.equal(a.headless, true);
  assert.equal(a.mine, true);
  assert.equal(a.threads, 3);
  assert.equal(a.rpcPort, 0);
  assert.equal(a.discover, true);
});

Deno.test("parseArgs: subcommands take their arguments; flags may come anywhere", () => {
  assert.deepEqual(parseArgs(["chain"]).positional, []);
  assert.deepEqual(parseArgs(["chain", "3", "--json"]).positional, ["3"]);
  const send = parseArgs(["--json", "send", "pcrt1abc", "1.5"]);
  assert.equal(send.command, "send");
  assert.equal(send.json, true);
  assert.deepEqual(send.positional, ["pcrt1abc", "1.5"]);
  assert.equal(parseArgs(["--help"]).command, "help");
  assert.deepEqual(parseArgs(["--help"]).positional, []);
  assert.deepEqual(parseArgs(["send", "--help"]).positional, ["send"]);
  assert.deepEqual(
    parseArgs(["-h", "send"]).positional,
    ["send"],
    "send --help with too few arguments is help",
  );
  assert.deepEqual(parseArgs(["help", "run"]).positional, ["run"]);
  assert.equal(parseArgs(["status", "--version"]).command, "version");
});

Deno.test("parseArgs: a negative amount is an argument for the node to refuse, not a flag", () => {
  assert.deepEqual(parseArgs(["send", "pcrt1abc", "-1"]).positional, ["pcrt1abc", "-1"]);
  assert.deepEqual(parseArgs(["send", "pcrt1abc", "-.5"]).positional, ["pcrt1abc", "-.5"]);
  assert.throws(() => parseArgs(["send", "pcrt1abc", "1", "-x"]), /unknown flag "-x"/);
});

Deno.test("parseArgs: usage errors say what is wrong", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /unknown flag "--bogus"/],
    [["--threads", "x"], /--threads takes a whole number from 1 to 256, not "x"/],
    [["--threads", "0"], /--threads/],
    [["--threads=1.5"], /--threads/],
    [["--rpc-port", "65536"], /--rpc-port/],
    [["--network", "testnet"], /unknown network "testnet"/],
    [["--data-dir"], /--data-dir needs a value/],
    [["--listen", "nohost"], /--listen/],
    [["--listen", "127.0.0.1:0"], /--listen/],
    [["--headless=yes"], /--headless takes no value/],
    [["--discover=yes"], /--discover takes no value/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["send", "onlyone"], /send takes 2 arguments/],
    [["send", "a", "1", "extra"], /send takes 2 arguments/],
    [["block"], /block takes 1 argument/],
    [["chain", "1", "2"], /chain takes 0 to 1 argument/],
    [["status", "extra"], /status takes 0 arguments/],
    [["run", "extra"], /run takes 0 arguments/],
    [["status", "--threads", "2"], /--threads is not a flag of status/],
    [["run", "--json"], /--json is not a flag of run/],
    [["help", "frobnicate"], /no command "frobnicate" to help with/],
    [["completions"], /completions takes 1 argument/],
    [["completions", "fish"], /completions are for bash or zsh, not "fish"/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(
      () => parseArgs(argv),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      argv.join(" "),
    );
  }
});

Deno.test("cli: usage errors exit 2 with one line and the usage, before looking for a node", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-cli-" });
  try {
    const results = await Promise.all([
      cli(dir, "status", "--bogus"),
      cli(dir, "run", "--threads", "x"),
      cli(dir, "send", "onlyone"),
      cli(dir, "frobnicate"),
      cli(dir, "run", "--listen", "nohost"),
      cli(dir, "status", "--mine"),
    ]);
    assertRefusal(results[0], 2, /unknown flag "--bogus"/);
    assertRefusal(results[1], 2, /--threads .*"x"/);
    assertRefusal(results[2], 2, /send takes 2 arguments/);
    assertRefusal(results[3], 2, /unknown command/);
    assertRefusal(results[4], 2, /--listen/);
    assertRefusal(results[5], 2, /--mine is not a flag of status \(it belongs to run\)/);
    assert.match(
      results[2].stderr,
      /\nusage: peerchain send ADDRESS AMOUNT \[flags\]\nrun `peerchain help send`/,
    );
    // Nothing was started: a usage error must not create the data directory's files.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: no node running for the data directory exits 3 with one line saying how to start one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-cli-" });
  try {
    const [empty, missing] = await Promise.all([
      cli(dir, "status", "--json"),
      cli(`${dir}/never-created`, "send", "pcrt1abc", "1"),
    ]);
    assertRefusal(empty, 3, /no node is running for .*peerchain run/);
    assertRefusal(missing, 3, /no node is running/);
    // Garbage in rpc.json is no node either, not a crash.
    await Deno.writeTextFile(`${dir}/rpc.json`, "{not json");
    assertRefusal(await cli(dir, "status"), 3, /no node is running/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseArgs: --explorer HOST:PORT, --no-explorer, and the two together refused", () => {
  assert.equal(parseArgs([]).explorer, undefined, "the default: 127.0.0.1 on the network port + 1000");
  assert.deepEqual(parseArgs(["--explorer", "0.0.0.0:18766"]).explorer, { hostname: "0.0.0.0", port: 18766 });
  assert.equal(parseArgs(["--no-explorer"]).explorer, null);
  assert.throws(() => parseArgs(["--explorer", "0.0.0.0:1", "--no-explorer"]), UsageError);
  assert.throws(() => parseArgs(["--no-explorer", "--explorer=127.0.0.1:1"]), UsageError);
  assert.throws(() => parseArgs(["--explorer", "nowhere"]), /--explorer: bad address/);
  assert.throws(() => parseArgs(["--no-explorer=1"]), /takes no value/);
});
