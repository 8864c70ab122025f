/** `Wallet.check`'s result given to `Wallet.open` (a node's start): the same wallet, its keys derived once. */
import assert from "node:assert/strict";
import { Wallet } from "../lib/wallet/wallet.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { withTempDir } from "./support/temp_dir.ts";

const params = NETWORKS.regtest;

Deno.test("opening with the check's result gives the wallet the file holds, and only for that file", async () => {
  await withTempDir(async (dir) => {
    const [a, b] = [`${dir}/a.json`, `${dir}/b.json`];
    const [plainA, plainB] = [await Wallet.open(a, params), await Wallet.open(b, params)];
    assert.notEqual(plainA.address, plainB.address);

    const checkedA = await Wallet.check(a, params);
    const reopened = await Wallet.open(a, params, { checked: checkedA });
    assert.equal(reopened.address, plainA.address);
    assert.deepEqual([...reopened.pubKeyHashes], [...plainA.pubKeyHashes]);

    // Another file's check is not this file's keys.
    assert.equal((await Wallet.open(b, params, { checked: checkedA })).address, plainB.address);
    // No file yet: the check has no keys and open makes a new wallet.
    const fresh = await Wallet.open(`${dir}/c.json`, params, {
      checked: await Wallet.check(`${dir}/c.json`, params),
    });
    assert.ok(![plainA.address, plainB.address].includes(fresh.address));
  });
});
