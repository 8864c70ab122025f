/**
 * One attacker process for the explorer bench: from source address FROM (another loopback address, as another
 * host would be), opens as many idle TCP connections to 127.0.0.1:PORT as it can (up to COUNT, until its
 * descriptors run out), prints how many on one line, then keeps that many open: each one the node closed or
 * closes is dialled again at once. Sends nothing. Runs until killed. (node:net, for its `localAddress`.)
 * `deno run --allow-net=127.0.0.1,127.0.0.2 bench/idle_attacker.ts PORT COUNT FROM`
 * @module
 */
import net from "node:net";

const [port, count] = Deno.args.slice(0, 2).map(Number);
const from = Deno.args[2] ?? "127.0.0.2";
let open = 0, redials = 0, holding = false;

/** Dials once; resolves true when connected, false on an error (EMFILE, refused). */
function dial(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host: "127.0.0.1", port, localAddress: from });
    let connected = false;
    s.on("connect", () => {
      connected = true;
      open++;
      resolve(true);
    });
    s.on("error", () => {
      if (!connected) resolve(false);
    });
    s.on("data", () => {});
    s.on("close", () => {
      if (!connected) return;
      open--;
      if (!holding) return;
      redials++;
      setTimeout(redial, 0);
    });
  });
}

async function redial(): Promise<void> {
  while (!(await dial())) await new Promise((r) => setTimeout(r, 50));
}

// First as many as it can, then it holds: every connection the node closes (and every one it closed during
// the first phase) is dialled again.
let opened = 0;
while (opened < count && await dial()) opened++;
console.log(opened);
holding = true;
for (let i = open; i < opened; i++) redial();
setInterval(() => console.log(`open ${open} redials ${redials}`), 5000);
