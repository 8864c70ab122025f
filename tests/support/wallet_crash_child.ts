/**
 * A child process for the wallet's crash tests: `deno run --allow-read --allow-write wallet_crash_child.ts
 * <walletPath> <scenario> <killAtStep>` runs one wallet operation and SIGKILLs itself right after its k-th
 * file-system step (opening a file for writing, each write, each flush, chmod, rename, remove), counted
 * through wrappers around those `Deno` functions: the crash comes at exactly that point, as abrupt as
 * `kill -9`. With k = 0 it prints `step <k> <what>` for every step and exits normally.
 *
 * Scenarios: `create` (open where there is no wallet), `migrate` (open a format-1 file), `encrypt` (set the
 * passphrase `PASSPHRASE` on a wallet in the clear), `save` (hand out three fresh addresses, printing
 * `address <a>` once each is returned). Before its operation it prints `ready`.
 * @module
 */
import { NETWORKS } from "../../lib/consensus/params.ts";
import { MIN_SCRYPT_N } from "../../lib/wallet/secret_box.ts";
import { Wallet } from "../../lib/wallet/wallet.ts";

/** The passphrase the `encrypt` scenario sets. */
export const PASSPHRASE = "crash test passphrase";

if (import.meta.main) {
  const [path, scenario, killAt] = Deno.args;
  const kill = Number(killAt);
  let step = 0;
  const stepped = (what: string) => {
    step++;
    if (kill === 0) console.log(`step ${step} ${what}`);
    else if (step === kill) Deno.kill(Deno.pid, "SIGKILL");
  };
  const D = Deno as unknown as Record<string, unknown>;
  const wrap =
    <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
      const r = await f(...a);
      stepped(name);
      return r;
    };
  const open = Deno.open;
  D.open = async (p: string | URL, o?: Deno.OpenOptions) => {
    const f = await open(p, o);
    if (!o?.write) return f;
    stepped(`open ${String(p).split("/").pop()}`);
    const write = f.write.bind(f), sync = f.sync.bind(f);
    f.write = wrap("write", write);
    f.sync = wrap("sync", sync);
    return f;
  };
  D.rename = wrap("rename", Deno.rename);
  D.chmod = wrap("chmod", Deno.chmod);
  D.remove = wrap("remove", Deno.remove);

  const params = NETWORKS.regtest;
  console.log("ready");
  const wallet = await Wallet.open(path, params, { scryptN: MIN_SCRYPT_N });
  if (scenario === "encrypt") await wallet.encrypt(PASSPHRASE);
  if (scenario === "save") {
    for (let i = 0; i < 3; i++) console.log(`address ${await wallet.newAddress()}`);
  }
  console.log("done");
}
