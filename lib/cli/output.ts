/**
 * How subcommand results are printed: one JSON value with `--json`, readable lines otherwise.
 * @module
 */

/** Prints `result` of `command`. */
export function printResult(command: string, result: unknown, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  const r = result as Record<string, unknown>;
  switch (command) {
    case "status":
      for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(9)} ${v}`);
      return;
    case "address":
      console.log(r.address);
      return;
    case "send":
      console.log(`sent: ${r.txid} (fee ${r.fee})`);
      return;
    case "mine":
      for (const h of r.hashes as string[]) console.log(h);
      return;
    case "stop":
      console.log("stopping");
      return;
    case "chain":
      for (const b of result as { height: number; hash: string; time: number }[]) {
        console.log(`${String(b.height).padStart(7)}  ${b.hash}  ${new Date(b.time * 1000).toISOString()}`);
      }
      return;
    default:
      console.log(JSON.stringify(result, null, 2));
  }
}
